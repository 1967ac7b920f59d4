#!/usr/bin/env bash
# Prepare .gpu/ for a GPU machine that receives only the checkout (64 MiB at most): both dev sets fit
# when only stems travel, since each mixture is the exact integer sum of its stems (the sets are made
# so); scripts/gpu/run.sh rebuilds the mixtures there (bit-identical, checked). CRNN weights are left out.
#   scripts/gpu/bundle.sh            # then: device run `bash scripts/gpu/run.sh` with carry [".gpu"]
set -euo pipefail
cd "$(git rev-parse --show-toplevel)"
../shared/tools/device-bundle.sh ../shared/data/synth-dev ../shared/data/synth-dev2 \
  --sources "cello drums electric_guitar flute guitar piano strings synth violin bass organ trumpet saxophone"
rm -rf .gpu/weights/sota_music_taggers/*/crnn
find .gpu/data -name mixture.flac -delete
# The package lives under src/ (src layout): env.sh puts the checkout on PYTHONPATH, tagbox needs src.
sed -i 's|:$(dirname "$g") |:$(dirname "$g")/src |' .gpu/env.sh
echo "bundle: $(( ($(du -sb .gpu | cut -f1) + $(git ls-files -z | xargs -0 du -cb | tail -1 | cut -f1)) / 1048576 )) MiB with the checkout"
