# The README's test command. CI (.ci/run) runs it after its other checks.
.PHONY: test
test: ## every test: Go on SQLite and PostgreSQL, then the web app's type check, unit tests and browser tests
	go test -race ./...
	cd web && { [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error; } \
		&& npm run --silent check && npm run --silent test && npm run --silent e2e
