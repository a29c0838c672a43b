fail=0
check() { if [ "$2" = "$3" ]; then echo "PASS $1"; else echo "FAIL $1: got [$2], want [$3]"; fail=1; fi; }
f=$(mktemp)
printf 'name,qty,price\na,2,1.5\nb,3,-0.5\nc,10,2.25\n' > "$f"
check "qty" "$(sh /app/csvsum.sh "$f" qty)" "15"
check "price" "$(sh /app/csvsum.sh "$f" price)" "3.25"
sh /app/csvsum.sh "$f" weight >/dev/null 2>&1; check "unknown column exits 1" "$?" "1"
printf 'x\n' > "$f"
check "header only sums to 0" "$(sh /app/csvsum.sh "$f" x)" "0"
exit $fail
