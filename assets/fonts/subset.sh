#!/bin/sh
# Rebuilds the two fallback fonts the workbench embeds so its text renders with no system font:
#   cjk-subset.ttf      Chinese, from Droid Sans Fallback Full (Apache-2.0)
#   symbols-subset.ttf  punctuation, arrows, shapes and symbols, from DejaVu Sans (Bitstream Vera
#                       licence; egui's own fonts have few of them)
# Run from anywhere after changing the Chinese catalogue (src/ui/i18n/), the product models, the
# conformance catalogue (assets/conformance/) or the report's labels (src/conformance/): their
# characters are added to the CJK subset (the PDF report embeds it too).
#
# Needs: python3 with fonttools (pip install fonttools) and the source fonts from Debian:
#   apt-get install fonts-droid-fallback fonts-dejavu-core
# Usage: assets/fonts/subset.sh [CJK_SOURCE_FONT [SYMBOLS_SOURCE_FONT]]
set -eu

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
source_font=${1:-/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf}
symbols_font=${2:-/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf}
out="$here/cjk-subset.ttf"
symbols_out="$here/symbols-subset.ttf"
chars=$(mktemp)
trap 'rm -f "$chars"' EXIT

# Every GB2312 character (its 6,763 hanzi plus its symbols, kana, Greek, Cyrillic and full-width
# forms), the CJK punctuation and full-width blocks whole, and every non-ASCII character in the
# UI's sources, the product models, the conformance catalogue and the report's sources.
python3 - "$root" > "$chars" <<'PY'
import pathlib, sys
root = pathlib.Path(sys.argv[1])
chars = set()
for hi in range(0xA1, 0xF8):
    for lo in range(0xA1, 0xFF):
        try:
            chars.add(bytes([hi, lo]).decode("gb2312"))
        except UnicodeDecodeError:
            pass
chars.update(chr(c) for c in range(0x3000, 0x3040))  # CJK symbols and punctuation
chars.update(chr(c) for c in range(0xFF00, 0xFFF0))  # half-width and full-width forms
sources = list((root / "src/ui").rglob("*.rs")) + list((root / "product-models").glob("*.json"))
sources += list((root / "assets/conformance").glob("*.json")) + list((root / "src/conformance").rglob("*.rs"))
for path in sources:
    chars.update(c for c in path.read_text(encoding="utf-8") if ord(c) > 0x7F)
print("".join(sorted(chars)))
PY

pyftsubset "$source_font" \
    --text-file="$chars" \
    --output-file="$out" \
    --layout-features='*' \
    --no-hinting \
    --desubroutinize \
    --name-IDs='*' \
    --notdef-outline

# Latin-1 and Latin Extended, Greek (µ, Ω), and U+2000-2BFF: general punctuation, super- and
# subscripts, letterlike symbols (℃), arrows, maths, technical, box drawing, shapes (● ▲ ▼),
# miscellaneous symbols (⚙ ☀) and dingbats (✓ ✕).
pyftsubset "$symbols_font" \
    --unicodes='U+00A0-024F,U+0370-03FF,U+2000-2BFF' \
    --output-file="$symbols_out" \
    --layout-features='*' \
    --no-hinting \
    --desubroutinize \
    --name-IDs='*' \
    --notdef-outline
ls -l "$out" "$symbols_out"
