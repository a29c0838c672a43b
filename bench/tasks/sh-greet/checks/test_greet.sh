fail=0
check() { if [ "$2" = "$3" ]; then echo "PASS $1"; else echo "FAIL $1: got [$2], want [$3]"; fail=1; fi; }
out=$(sh /app/greet.sh Ada "Grace Hopper")
check "two names" "$out" "$(printf 'Hello, Ada!\nHello, Grace Hopper!')"
out=$(sh /app/greet.sh '*' 2>&1)
check "a star is a name, not a glob" "$out" "Hello, *!"
err=$(sh /app/greet.sh 2>&1 >/dev/null); code=$?
check "no names: exit 2" "$code" "2"
check "no names: usage on stderr" "$err" "usage: greet.sh NAME..."
exit $fail
