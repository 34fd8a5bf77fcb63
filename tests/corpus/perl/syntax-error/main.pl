use strict;
use warnings;

sub total {
    my @items = @_;
    my $sum = 0
    for my $i (@items) { $sum += $i }
    return $sum;
}

print total(1, 2, 3), "\n";
