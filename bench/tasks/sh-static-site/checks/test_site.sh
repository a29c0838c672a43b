fail=0
page=$(wget -q -O - http://127.0.0.1:8080/)
case "$page" in *"<title>azlon bench</title>"*) echo "PASS title" ;; *) echo "FAIL title: $page"; fail=1 ;; esac
case "$page" in *"<h1>It works</h1>"*) echo "PASS heading" ;; *) echo "FAIL heading"; fail=1 ;; esac
status=$(wget -q -O - http://127.0.0.1:8080/status.json | tr -d ' \n')
if [ "$status" = '{"ok":true}' ]; then echo "PASS status.json"; else echo "FAIL status.json: $status"; fail=1; fi
if wget -q -O /dev/null http://127.0.0.1:8080/nothing-here.html 2>/dev/null; then echo "FAIL unknown page answered"; fail=1; else echo "PASS unknown page is an error"; fi
exit $fail
