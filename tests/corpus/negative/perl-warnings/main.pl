use strict;
use warnings;

my %cfg = (retries => 3);
print "retries: $cfg{retries}\n";
print "region: $cfg{region}\n";
warn "cache disabled, running slow";
my $n = "12abc" + 1;
print "n = $n\n";
print "done\n";
exit 0;
