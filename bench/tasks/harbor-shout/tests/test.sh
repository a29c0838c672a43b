#!/bin/sh
# Harbor's verifier: the reward goes to /logs/verifier/reward.txt (1 passes, 0 fails).
mkdir -p /logs/verifier
reward=1
got=$(sh /app/shout.sh hello there 2>&1)
if [ "$got" = "HELLO THERE!" ]; then echo "PASS shout"; else echo "FAIL shout: $got"; reward=0; fi
got=$(sh /app/shout.sh 2>&1)
if [ "$got" = "!" ]; then echo "PASS shout with nothing"; else echo "FAIL shout with nothing: $got"; reward=0; fi
if [ "$(cat /app/motd.txt 2>/dev/null)" = "Welcome to Harbor" ]; then echo "PASS motd"; else echo "FAIL motd"; reward=0; fi
echo "$reward" > /logs/verifier/reward.txt
