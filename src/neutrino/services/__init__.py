"""Resource rules. Each public method is one SQL transaction that also journals what OVN
must learn (precommit); after the commit it wakes the journal (postcommit)."""
