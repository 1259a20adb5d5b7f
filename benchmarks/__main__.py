"""``python -m benchmarks [--quick]``: exconn beside ccxt 4.5.33 and the bare floor, one table."""

from benchmarks.bench_ccxt import main

main()
