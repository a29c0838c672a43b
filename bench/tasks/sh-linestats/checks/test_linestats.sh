fail=0
check() { if [ "$2" = "$3" ]; then echo "PASS $1"; else echo "FAIL $1: got [$2], want [$3]"; fail=1; fi; }
f=$(mktemp)
printf 'one two\nthree\n' > "$f"
check "small file" "$(sh /app/linestats.sh "$f")" "$(printf 'lines 2\nwords 3\nlongest 7')"
printf 'a b c d\n\n  spaced   out  words  \n' > "$f"
check "blank and spaced lines" "$(sh /app/linestats.sh "$f")" "$(printf 'lines 3\nwords 7\nlongest 23')"
sh /app/linestats.sh /nonexistent/file >/dev/null 2>&1; check "missing file exits 1" "$?" "1"
exit $fail
