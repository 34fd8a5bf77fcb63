use strict;
use warnings;

package Parser;
use Carp;

sub parse_line {
    my ($line) = @_;
    croak "malformed record '$line'" unless $line =~ /^\w+=\d+$/;
    return split /=/, $line;
}

package main;

while (my $line = <STDIN>) {
    chomp $line;
    my ($k, $v) = Parser::parse_line($line);
    print "$k -> $v\n";
}
