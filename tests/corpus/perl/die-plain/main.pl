use strict;
use warnings;

sub load_config {
    my ($path) = @_;
    open(my $fh, '<', $path) or die "cannot open $path: $!";
    return <$fh>;
}

print "starting\n";
load_config("/nonexistent/app.conf");
