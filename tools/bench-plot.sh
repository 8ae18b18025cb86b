#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
# bench-plot.sh - plots of a kipc-bench run, as SVG and PNG, with gnuplot.
#
# Usage: tools/bench-plot.sh BENCH.CSV [OUTDIR]
#
# Writes to OUTDIR (default: the CSV's directory):
#   bench-latency.{svg,png}     round trip p50/p99 by mechanism, same- and cross-core
#   bench-throughput.{svg,png}  one-way stream MB/s by message size and mechanism
#   bench-stream64.{svg,png}    64 B stream messages/s by mechanism
# kipc mechanisms are drawn solid, stock ones dashed.
set -euo pipefail

csv=${1:?usage: bench-plot.sh BENCH.CSV [OUTDIR]}
out=${2:-$(dirname -- "$csv")}
[[ -r $csv ]] || { echo "bench-plot: cannot read $csv" >&2; exit 1; }
command -v gnuplot >/dev/null || { echo "bench-plot: gnuplot not found (scripts/deps.sh installs gnuplot-nox)" >&2; exit 1; }
mkdir -p -- "$out"

# PNG through cairo when this gnuplot has it (better text), else libgd.
png=png
if gnuplot -e 'set terminal pngcairo' >/dev/null 2>&1; then
	png=pngcairo
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/bench-plot.XXXXXX")
trap 'rm -rf -- "$tmp"' EXIT

# Split the CSV (quoted fields may hold commas) into gnuplot data files:
#   rtt.dat              mech kind p50-same p99-same p50-cross p99-cross (us)
#   stream-PL-MECH.dat   size MB/s, one file per placement and mechanism
#   stream64.dat         mech msgs/s-same msgs/s-cross
#   mechs-PL             the mechanisms with stream data, kipc first
awk -v dir="$tmp" '
function split_csv(line, f,    n, i, c, q, cur) {
	n = 0; cur = ""; q = 0
	for (i = 1; i <= length(line); i++) {
		c = substr(line, i, 1)
		if (q) {
			if (c == "\"") {
				if (substr(line, i + 1, 1) == "\"") { cur = cur c; i++ }
				else q = 0
			} else cur = cur c
		} else if (c == "\"") q = 1
		else if (c == ",") { f[++n] = cur; cur = "" }
		else cur = cur c
	}
	f[++n] = cur
	return n
}
function val(x) { return x == "" ? "-" : x }
NR == 1 {
	n = split_csv($0, h)
	for (i = 1; i <= n; i++) col[h[i]] = i
	next
}
{
	split_csv($0, f)
	if (f[col["status"]] != "ok") next
	wl = f[col["workload"]]; pl = f[col["placement"]]; m = f[col["mech"]]
	size = f[col["size"]] + 0
	if (wl == "rtt" && (rtt_size == "" || size == rtt_size)) {
		rtt_size = size
		if (!(m in rtt_seen)) { rtt_seen[m] = 1; rtt_order[++nrtt] = m; rtt_kind[m] = f[col["kind"]] }
		p50 = f[col["p50_ns"]]; p99 = f[col["p99_ns"]]
		rtt[m, pl, "p50"] = p50 == "" ? "-" : p50 / 1000
		rtt[m, pl, "p99"] = p99 == "" ? "-" : p99 / 1000
		if (p50 != "" && (rtt_min == "" || p50 / 1000 < rtt_min))
			rtt_min = p50 / 1000
	}
	if (wl == "stream") {
		file = dir "/stream-" pl "-" m ".dat"
		print size, f[col["bytes_per_s"]] / 1e6 >> file
		close(file)
		if (!((pl, m) in st_seen)) {
			st_seen[pl, m] = 1
			list = dir "/mechs-" pl
			print m, f[col["kind"]] >> list
			close(list)
		}
		if (size == 64) {
			if (!(m in s64_seen)) { s64_seen[m] = 1; s64_order[++ns64] = m }
			s64[m, pl] = f[col["msgs_per_s"]]
		}
	}
}
END {
	for (i = 1; i <= nrtt; i++) {
		m = rtt_order[i]
		printf "%s %s %s %s %s %s\n", m, rtt_kind[m],
			val(rtt[m, "same-core", "p50"]), val(rtt[m, "same-core", "p99"]),
			val(rtt[m, "cross-core", "p50"]), val(rtt[m, "cross-core", "p99"]) > (dir "/rtt.dat")
	}
	for (i = 1; i <= ns64; i++) {
		m = s64_order[i]
		printf "%s %s %s\n", m, val(s64[m, "same-core"]), val(s64[m, "cross-core"]) > (dir "/stream64.dat")
	}
	print rtt_size + 0 > (dir "/rtt-size")
	print (rtt_min == "" ? 1 : rtt_min) > (dir "/rtt-min")
}
' "$csv"

plots=0
render() { # name gnuplot-body
	local name=$1 body=$2 term
	for term in svg "$png"; do
		local ext=${term%cairo}
		{
			if [[ $term == svg ]]; then
				echo "set terminal svg size 1200,700 dynamic enhanced font 'sans,11' background '#ffffff'"
			else
				echo "set terminal $term size 1200,700 enhanced font 'sans,10' background '#ffffff'"
			fi
			echo "set output '$out/$name.$ext'"
			echo "set datafile missing '-'"
			echo "set grid ytics lc rgb '#dddddd'"
			echo "set key outside right top"
			echo "$body"
		} >"$tmp/$name.gp"
		gnuplot "$tmp/$name.gp"
	done
	plots=$((plots + 1))
}

if [[ -s $tmp/rtt.dat ]]; then
	render bench-latency "
set title 'Round trip, $(<"$tmp/rtt-size") B messages (lower is better; log scale)'
set ylabel 'microseconds'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set xtics rotate by -35 nomirror
set logscale y
set yrange [$(awk '{ print $1 / 2 }' "$tmp/rtt-min"):*]
plot '$tmp/rtt.dat' using 3:xtic(1) title 'p50 same-core' lc rgb '#1f77b4', \
     '' using 4 title 'p99 same-core' lc rgb '#aec7e8', \
     '' using 5 title 'p50 cross-core' lc rgb '#d62728', \
     '' using 6 title 'p99 cross-core' lc rgb '#ff9896'"
fi

if [[ -s $tmp/stream64.dat ]]; then
	render bench-stream64 "
set title 'One-way stream, 64 B messages (higher is better)'
set ylabel 'messages per second'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.85 border -1
set boxwidth 0.9
set format y '%.0s%c'
set xtics rotate by -35 nomirror
set yrange [0:*]
plot '$tmp/stream64.dat' using 2:xtic(1) title 'same-core' lc rgb '#1f77b4', \
     '' using 3 title 'cross-core' lc rgb '#d62728'"
fi

# The same color for a mechanism in every panel.
declare -A colors=()
palette=('#d62728' '#ff7f0e' '#1f77b4' '#2ca02c' '#9467bd' '#8c564b' '#e377c2'
	'#7f7f7f' '#bcbd22' '#17becf' '#393b79' '#637939' '#843c39' '#7b4173'
	'#3182bd' '#e6550d')
color() { # sets $lc; no subshell, or the table would be lost
	[[ -n ${colors[$1]:-} ]] || colors[$1]=${palette[${#colors[@]} % ${#palette[@]}]}
	lc=${colors[$1]}
}

panels=()
for pl in same-core cross-core; do
	[[ -s $tmp/mechs-$pl ]] && panels+=("$pl")
done
if [[ ${#panels[@]} -gt 0 ]]; then
	body="set multiplot layout 1,${#panels[@]} title 'One-way stream throughput by message size (higher is better)'
set logscale xy
set xrange [32:131072]
set xtics ('64 B' 64, '256 B' 256, '1 KiB' 1024, '4 KiB' 4096, '16 KiB' 16384, '64 KiB' 65536)
set xlabel 'message size'
set ylabel 'MB/s'
set key outside bottom center horizontal maxrows 4 font ',8' samplen 2
"
	for pl in "${panels[@]}"; do
		# kipc solid and thick, stock dashed; a stable color per mechanism.
		body+="set title '$pl'
plot "
		sep=
		while read -r m kind; do
			color "$m"
			if [[ $kind == kipc ]]; then style="dt 1 lw 3"; else style="dt 2 lw 1.5"; fi
			body+="$sep'$tmp/stream-$pl-$m.dat' using 1:2 with linespoints title '$m' lc rgb '$lc' $style pt 7 ps 0.6"
			sep=", "
		done <"$tmp/mechs-$pl"
		body+="
"
	done
	body+="unset multiplot"
	render bench-throughput "$body"
fi

[[ $plots -gt 0 ]] || { echo "bench-plot: no plottable results in $csv" >&2; exit 1; }
