# agent-lib.sh - for the agent tests: make, in the current directory, a CA (ca.crt), the agent's certificate
# for the addresses given (server.crt, server.key), a client certificate from the CA (client.crt,
# client.key), one from no known CA (rogue.crt, rogue.key) and bearer tokens (token, token1, token2).
# Usage: agent_certs IP...  Sourced after the test defines cleanup(), which it then runs on exit.
trap cleanup EXIT
trap 'exit 1' INT TERM
fail=0
bad() { echo "FAILED: $*"; fail=1; }

agent_certs() {
	san=$(printf 'IP:%s,' "$@"); san=${san%,}
	ossl() { openssl "$@" >/dev/null 2>&1 || { echo "FAILED: openssl $1"; exit 1; }; }
	ossl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.crt -days 2 -subj /CN=test-ca
	ossl req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=agent
	printf 'subjectAltName=%s\n' "$san" > san.ext
	ossl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out server.crt -days 2 -extfile san.ext
	ossl req -newkey rsa:2048 -nodes -keyout client.key -out client.csr -subj /CN=controller
	ossl x509 -req -in client.csr -CA ca.crt -CAkey ca.key -CAcreateserial -out client.crt -days 2
	ossl req -x509 -newkey rsa:2048 -nodes -keyout rogue.key -out rogue.crt -days 2 -subj /CN=rogue
	for t in token token1 token2; do head -c 24 /dev/urandom | od -An -tx1 | tr -d ' \n' > $t; done
	chmod 600 token token1 token2 server.key client.key rogue.key
}
