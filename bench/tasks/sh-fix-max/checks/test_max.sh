fail=0
check() { if [ "$2" = "$3" ]; then echo "PASS $1"; else echo "FAIL $1: got [$2], want [$3]"; fail=1; fi; }
check "9 10" "$(sh /app/max.sh 9 10)" "10"
check "-5 -12" "$(sh /app/max.sh -5 -12)" "-5"
check "one number" "$(sh /app/max.sh 7)" "7"
check "100 99 3" "$(sh /app/max.sh 100 99 3)" "100"
exit $fail
