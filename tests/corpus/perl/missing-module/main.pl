use strict;
use warnings;
use JSON::Tiny::Missing;

print "unreachable\n";
