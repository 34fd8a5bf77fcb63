<?php
namespace App\Billing;

class GatewayError extends \RuntimeException {}

class Client
{
    public function charge(int $amount): void
    {
        try {
            $this->send($amount);
        } catch (\LogicException $e) {
            throw new GatewayError("charge of $amount failed", 3, $e);
        }
    }

    private function send(int $amount): void
    {
        throw new \LogicException("socket closed by peer");
    }
}

function main(): void
{
    (new Client())->charge(40);
}

echo "charging\n";
main();
