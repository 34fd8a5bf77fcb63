<?php
function check(int $v): int
{
    if ($v < 0) {
        throw new InvalidArgumentException("negative value\nin batch 7");
    }
    return $v;
}

$out = array_map(function ($v) { return check($v); }, [1, -2, 3]);
