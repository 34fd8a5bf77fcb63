<?php
function loadUser(array $users, int $id): array
{
    if (!isset($users[$id])) {
        throw new DomainException("user $id not found");
    }
    return $users[$id];
}

$users = [1 => ["name" => "ann"]];
echo "hello " . loadUser($users, 1)["name"] . "\n";
loadUser($users, 9);
