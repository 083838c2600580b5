#!/usr/bin/env bash
# Runs `mvbench compare` for the mvbench-compare action (inputs arrive as environment variables, never
# interpolated into the script), writes the Markdown summary to the job summary, and posts or updates
# one pull-request comment marked with MARKER. Exits with compare's code when FAIL_ON_REGRESSION=true.
set -uo pipefail

MARKER="<!-- mvbench-compare -->"
out_dir="${RUNNER_TEMP:-$(mktemp -d)}"
summary="$out_dir/mvbench-compare.md"
body="$out_dir/mvbench-compare-comment.md"
rm -f "$summary"

args=(compare "$MVBENCH_BASE" "$MVBENCH_NEW" --out "$summary")
[ -n "${MAX_DROP:-}" ] && args+=(--max-drop "$MAX_DROP")
[ -n "${MAX_RISE:-}" ] && args+=(--max-rise "$MAX_RISE")
if [ -n "${EXTRA_ARGS:-}" ]; then
  read -r -a extra <<< "$EXTRA_ARGS"
  args+=("${extra[@]}")
fi

errors="$out_dir/mvbench-compare.err"
${MVBENCH_COMMAND:-mvbench} "${args[@]}" 2> "$errors"
code=$?
cat "$errors" >&2
if [ ! -s "$summary" ]; then  # bad input: compare stopped before writing a table
  { echo "## mvbench compare: ERROR (exit $code)"; echo; echo '```'; cat "$errors"; echo '```'; } > "$summary"
fi

{ echo "$MARKER"; cat "$summary"; } > "$body"
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  { echo "exit-code=$code"; echo "summary-file=$summary"; } >> "$GITHUB_OUTPUT"
fi
if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  cat "$summary" >> "$GITHUB_STEP_SUMMARY"
fi

if [ "${COMMENT:-true}" = "true" ] && [ -n "${PR_NUMBER:-}" ]; then
  existing=$(gh api "repos/$GH_REPO/issues/$PR_NUMBER/comments" --paginate \
               --jq ".[] | select(.body | contains(\"$MARKER\")) | .id" | tail -n 1)
  if [ -n "$existing" ]; then
    gh api --method PATCH "repos/$GH_REPO/issues/comments/$existing" -F "body=@$body" > /dev/null \
      || echo "mvbench-compare: could not update comment $existing" >&2
  else
    gh pr comment "$PR_NUMBER" --repo "$GH_REPO" --body-file "$body" \
      || echo "mvbench-compare: could not comment (does the job have pull-requests: write?)" >&2
  fi
fi

if [ "${FAIL_ON_REGRESSION:-true}" = "true" ]; then
  exit "$code"
fi
exit 0
