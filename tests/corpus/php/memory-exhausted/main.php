<?php
function build(int $n): array
{
    $rows = [];
    for ($i = 0; $i < $n; $i++) {
        $rows[] = str_repeat("x", 1024);
    }
    return $rows;
}

echo "building\n";
build(1000000);
