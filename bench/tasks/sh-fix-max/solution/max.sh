#!/bin/sh
# Prints the largest of the numbers given.
max=$1
shift
for n in "$@"; do
  if [ "$n" -gt "$max" ]; then max=$n; fi
done
echo "$max"
