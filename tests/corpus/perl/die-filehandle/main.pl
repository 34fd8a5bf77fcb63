use strict;
use warnings;

my $total = 0;
while (my $line = <STDIN>) {
    chomp $line;
    die "bad amount '$line'" unless $line =~ /^\d+$/;
    $total += $line;
}
print "total $total\n";
