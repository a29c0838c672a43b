#!/bin/sh
# Harbor's oracle agent runs this in the environment, from its working folder (/app).
cat > shout.sh <<'SCRIPT'
#!/bin/sh
echo "$*!" | tr '[:lower:]' '[:upper:]'
SCRIPT
printf 'Welcome to Harbor\n' > motd.txt
