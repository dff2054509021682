#!/usr/bin/env bash
# Fills in the package.json fields that npm provenance and n8n's scanner need and that the
# repository does not keep: repository and bugs (from the GitHub repository the workflow runs
# in) and the author's email (from the Actions variable NPM_AUTHOR_EMAIL). It changes the
# package.json of the checkout it is in (the runner's, or a scratch copy), never commits.
#
# In .github/workflows/publish.yml, before `npm publish --provenance`. Locally, from a scratch
# copy of the repository (see README.md, "Releasing"):
#   GITHUB_REPOSITORY=owner/name NPM_AUTHOR_EMAIL=someone@example.com \
#     bash .github/scripts/prepare-publish.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/../.."

fail() {
  # GitHub shows ::error:: lines in the run's summary.
  if [ "${GITHUB_ACTIONS:-}" = true ]; then echo "::error title=Publish::$1"; fi
  echo "prepare-publish: $1" >&2
  exit 1
}

repo="${GITHUB_REPOSITORY:-}"
email="${NPM_AUTHOR_EMAIL:-}"

if [ -z "$repo" ]; then
  fail "GITHUB_REPOSITORY is not set: it names the GitHub repository (owner/name) that package.json's repository.url must point to for npm provenance. GitHub Actions sets it; locally, set it yourself (GITHUB_REPOSITORY=owner/name)."
fi
if ! [[ "$repo" =~ ^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$ ]]; then
  fail "GITHUB_REPOSITORY is '$repo', not owner/name."
fi
if [ -z "$email" ]; then
  fail "NPM_AUTHOR_EMAIL is not set: it is package.json's author.email, which n8n's scanner requires. Set it as a repository variable: Settings → Secrets and variables → Actions → Variables → New repository variable, name NPM_AUTHOR_EMAIL (locally: NPM_AUTHOR_EMAIL=someone@example.com)."
fi
if ! [[ "$email" =~ ^[^[:space:]@]+@[^[:space:]@]+\.[^[:space:]@]+$ ]]; then
  fail "NPM_AUTHOR_EMAIL is '$email', not an email address. Fix it under Settings → Secrets and variables → Actions → Variables."
fi

if [ "$(node -p 'typeof require("./package.json").author')" = string ]; then
  fail "package.json's author is a string; make it an object ({\"name\": ...}) so author.email can be set."
fi

npm pkg set \
  repository.type=git \
  "repository.url=git+https://github.com/$repo.git" \
  "bugs.url=https://github.com/$repo/issues" \
  "author.email=$email"

echo "package.json now has:"
npm pkg get repository bugs author
