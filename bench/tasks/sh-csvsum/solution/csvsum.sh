#!/bin/sh
file=$1
column=$2
awk -F, -v col="$column" '
  NR == 1 { for (i = 1; i <= NF; i++) if ($i == col) c = i; if (!c) { print "error: no column " col > "/dev/stderr"; bad = 1; exit 1 } next }
  { sum += $c }
  END { if (!bad) printf "%g\n", sum + 0 }
' "$file"
