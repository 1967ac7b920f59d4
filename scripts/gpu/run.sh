#!/usr/bin/env bash
# One GPU session's measurements, each step with its own time limit inside a global budget (seconds,
# BUDGET): the CUDA tests, the decision evaluation on both dev sets over 3 seeds in growing chunks
# (the default, the previous default (32 components, one run), the flat start and joint estimation; each chunk's summary replaces the last
# only when it finishes, and the cache makes the next chunk incremental), absent sources, the objective
# alignment check and device timings.
# Prepared by scripts/gpu/bundle.sh; run from the checkout's root on the device machine:
#   BUDGET=540 bash scripts/gpu/run.sh        (results under $OUT: at most 8 files)
# Every setting below can be overridden from the environment (a CPU dry run: DEV=cpu J=2 TRACKS=1 ...).
set -u
T0=$(date +%s); BUDGET=${BUDGET:-540}; DEV=${DEV:-cuda}; J=${J:-14}; TRACKS=${TRACKS:-8 16 32}
A=${A:---config default= --config previous=components=32,runs=1 --config flat=start=flat --config joint=joint=true}
ABS=${ABS:---config default=}
ALIGN=${ALIGN:---config reference= --config focused=objective=focused --config judge_rest=judge_rest=true}
SECONDS_BENCH=${SECONDS_BENCH:-600 180}; STEMS=${STEMS:-12}
E=${E:-bash .gpu/env.sh}; D=".gpu/data/synth-dev .gpu/data/synth-dev2"
S="cello drums electric_guitar flute guitar piano strings synth violin bass"
EV="python3 -m tagbox eval $D --sources $S --tagger none -d $DEV -j $J"
left() { local l=$(( $1 - ($(date +%s) - T0) )); [ $l -lt 5 ] && l=5; echo $l; }
log() { echo "== $* $(( $(date +%s) - T0 )) s" >> "$OUT/log.txt"; }
keep() { [ -s "$OUT/$1.tmp" ] && mv "$OUT/$1.tmp" "$OUT/$1"; }  # a finished step's summary replaces the last

nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader > "$OUT/log.txt" 2>&1
$E python3 scripts/gpu/rebuild_mixtures.py .gpu/data >> "$OUT/log.txt" 2>&1
log "cuda tests"
TAGBOX_SHARED=.gpu timeout 100 $E python3 -m pytest -q -p no:cacheprovider tests/test_cuda.py >> "$OUT/log.txt" 2>&1
for n in $TRACKS; do
  log "eval, max-tracks $n"
  timeout "$(left 330)" $E $EV --methods tagbox,mixture $A --seeds 0,1,2 --baseline tagbox:default --max-tracks "$n" \
    --json "$OUT/eval.json" --force > "$OUT/eval.md.tmp" 2>> "$OUT/err.txt" && keep eval.md || break
done
log "absent"
timeout "$(left 430)" $E $EV --methods tagbox $ABS --seeds 0 --absent 2 --json "$OUT/absent.json" --force \
  > "$OUT/absent.md.tmp" 2>> "$OUT/err.txt" && keep absent.md
log "alignment"
timeout "$(left 480)" $E python3 bench/bench_alignment.py $D $ALIGN --oracle-steps 15 --blind-steps 0 \
  --max-stems "$STEMS" -d "$DEV" > "$OUT/alignment.md.tmp" 2>> "$OUT/err.txt" && keep alignment.md
log "bench"
timeout "$(left "$BUDGET")" $E python3 bench/bench_device.py --device "$DEV" --seconds $SECONDS_BENCH \
  --track .gpu/data/synth-dev/dev_002/mixture.flac >> "$OUT/log.txt" 2>> "$OUT/err.txt"
log "end"
rm -f "$OUT"/*.tmp
