#!/usr/bin/env bash
# Runs the cargo-fuzz targets one after another and records what each run did.
#
#   fuzz/run.sh [MINUTES] [TARGET...]      MINUTES per target (default 5), all targets by default
#
# Needs the nightly toolchain and cargo-fuzz (`cargo +stable install cargo-fuzz --locked`).
# Not part of .ci/run: fuzzing takes minutes per target and needs nightly.
#
# For each target it:
#   - runs `cargo +nightly fuzz run <target> -- -max_total_time=<secs>` on fuzz/corpus/<target>/
#     (new inputs that find new coverage are kept there), with fuzz/dicts/<target>.dict;
#   - minimizes the corpus with `cargo fuzz cmin` once it passes 200 files or 2 MB (set-cover
#     merge on edge coverage, `-set_cover_merge=1 -use_counters=0`: the fewest files that still
#     reach every edge the corpus reaches);
#   - copies any crash, timeout or OOM input (cargo-fuzz leaves it in fuzz/artifacts/<target>/)
#     into fuzz/corpus/<target>/ too, so tests/fuzz_corpus.rs replays it in `cargo test` until the
#     bug is fixed;
#   - appends one line to the run log at the end of docs/reliability/fuzz.md: date, target,
#     minutes, executions, corpus files and size, crashes. (A list, not a table: the README's
#     Reliability section copies every table row of docs/reliability/ and should not grow with
#     each run.)
#
# Build output goes to $CARGO_TARGET_DIR (default fuzz/target, git-ignored); libFuzzer's log of
# each run to <target dir>/fuzz-logs/<target>.log.
set -uo pipefail
cd "$(dirname "$0")/.."

ALL_TARGETS=(frame envelope payload topic model storage)
MAX_CORPUS_FILES=200
MAX_CORPUS_BYTES=$((2 * 1024 * 1024))

minutes="${1:-5}"
if ! [[ "$minutes" =~ ^[0-9]+([.][0-9]+)?$ ]]; then
  echo "usage: fuzz/run.sh [MINUTES] [TARGET...]   (targets: ${ALL_TARGETS[*]})" >&2
  exit 2
fi
shift $(( $# > 0 ? 1 : 0 ))
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${ALL_TARGETS[@]}")
for target in "${targets[@]}"; do
  [[ " ${ALL_TARGETS[*]} " == *" $target "* ]] || { echo "unknown target $target (known: ${ALL_TARGETS[*]})" >&2; exit 2; }
done
seconds=$(awk -v m="$minutes" 'BEGIN { s = int(m * 60); print (s < 1 ? 1 : s) }')

command -v cargo-fuzz >/dev/null 2>&1 || { echo "cargo-fuzz missing: cargo +stable install cargo-fuzz --locked" >&2; exit 1; }
rustup run nightly rustc --version >/dev/null 2>&1 || { echo "nightly toolchain missing: rustup toolchain install nightly" >&2; exit 1; }

target_dir="${CARGO_TARGET_DIR:-fuzz/target}"
logs="$target_dir/fuzz-logs"
mkdir -p "$logs"
doc=docs/reliability/fuzz.md
today=$(date -u +%Y-%m-%d)

corpus_files() { find "fuzz/corpus/$1" -type f ! -name '.*' 2>/dev/null | wc -l | tr -d ' '; }
corpus_bytes() { find "fuzz/corpus/$1" -type f ! -name '.*' -printf '%s\n' 2>/dev/null | awk '{ s += $1 } END { print s + 0 }'; }
human_bytes() { awk -v b="$1" 'BEGIN { if (b >= 1048576) printf "%.1f MB", b / 1048576; else if (b >= 1024) printf "%.0f KB", b / 1024; else printf "%d B", b }'; }

echo "Building the fuzz targets (nightly, $target_dir)…"
if ! cargo +nightly fuzz build >"$logs/build.log" 2>&1; then
  tail -30 "$logs/build.log" >&2
  echo "build failed; full log: $logs/build.log" >&2
  exit 1
fi

if [ ! -f "$doc" ]; then
  printf '# Fuzzing\n\nSee fuzz/run.sh.\n' >"$doc"
fi
if ! grep -q '^## Run log' "$doc"; then
  printf '\n## Run log\n\nOne line per target per `fuzz/run.sh` run, appended by the script.\n\n' >>"$doc"
fi

status=0
for target in "${targets[@]}"; do
  mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target"
  marker="$logs/$target.start"
  touch "$marker"
  dict=()
  [ -f "fuzz/dicts/$target.dict" ] && dict=("-dict=fuzz/dicts/$target.dict")
  echo "== $target: $minutes min"
  cargo +nightly fuzz run "$target" -- \
    -max_total_time="$seconds" -timeout=10 -print_final_stats=1 "${dict[@]}" >"$logs/$target.log" 2>&1
  rc=$?

  execs=$(grep -oE 'stat::number_of_executed_units: *[0-9]+' "$logs/$target.log" | grep -oE '[0-9]+$' | tail -1)
  [ -n "$execs" ] || execs=$(grep -oE '^#[0-9]+' "$logs/$target.log" | tr -d '#' | tail -1)
  [ -n "$execs" ] || execs=0

  mapfile -t found < <(find "fuzz/artifacts/$target" -type f -newer "$marker" \
    \( -name 'crash-*' -o -name 'timeout-*' -o -name 'oom-*' -o -name 'leak-*' \) 2>/dev/null | sort)
  crashes=${#found[@]}
  if [ "$rc" -ne 0 ] && [ "$crashes" -eq 0 ]; then
    echo "   cargo fuzz exited with $rc but left no artifact; see $logs/$target.log" >&2
    status=1
  fi
  for artifact in "${found[@]}"; do
    cp "$artifact" "fuzz/corpus/$target/"
    echo "   FOUND $(basename "$artifact") (copied into fuzz/corpus/$target/); reproduce:"
    echo "     cargo +nightly fuzz run $target $artifact"
    grep -m1 -A2 'panicked at' "$logs/$target.log" | sed 's/^/     /'
    status=1
  done

  files=$(corpus_files "$target")
  bytes=$(corpus_bytes "$target")
  if [ "$files" -gt "$MAX_CORPUS_FILES" ] || [ "$bytes" -gt "$MAX_CORPUS_BYTES" ]; then
    echo "   minimizing the corpus ($files files, $(human_bytes "$bytes"))"
    if cargo +nightly fuzz cmin "$target" -- -set_cover_merge=1 -use_counters=0 >"$logs/$target.cmin.log" 2>&1; then
      files=$(corpus_files "$target")
      bytes=$(corpus_bytes "$target")
    else
      echo "   cmin failed; see $logs/$target.cmin.log" >&2
    fi
  fi

  crash_note="$crashes"
  [ "$crashes" -gt 0 ] && crash_note="$crashes ($(for a in "${found[@]}"; do printf '`%s` ' "$(basename "$a")"; done | sed 's/ $//'))"
  printf -- '- %s `%s`: %s min, %s executions, corpus %s files (%s), crashes: %s\n' \
    "$today" "$target" "$minutes" "$execs" "$files" "$(human_bytes "$bytes")" "$crash_note" >>"$doc"
  echo "   $execs executions, corpus $files files ($(human_bytes "$bytes")), $crashes crash(es)"
  rm -f "$marker"
done
exit $status
