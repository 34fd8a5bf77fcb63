<?php
function ratio(int $a, int $b): float
{
    return $b === 0 ? 0.0 : $a / $b;
}
$cfg = ["retries" => 3];
echo "retries: " . $cfg["retries"] . "\n";
echo "region: " . $cfg["region"] . "\n";
echo "ratio: " . ratio(3, 4) . "\n";
trigger_error("cache disabled, running slow", E_USER_WARNING);
trigger_error("old config key 'timeout_ms'", E_USER_DEPRECATED);
echo "Fatal error: counter is a word in this line\n";
echo "done\n";
