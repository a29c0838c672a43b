#!/bin/sh
file=$1
if [ ! -r "$file" ] || [ -d "$file" ]; then
  echo "error: cannot read $file" >&2
  exit 1
fi
awk '{ words += NF; if (length($0) > longest) longest = length($0) } END { printf "lines %d\nwords %d\nlongest %d\n", NR, words, longest }' "$file"
