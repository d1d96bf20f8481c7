# lockshare.gp - share of worker time spent waiting on locks, stacked with
# the share left for computing, per configuration of a workload.
# Set by contend with -e: pngout, svgout (files contend opened), dat, ttl.
set terminal pngcairo size 1000,640 noenhanced font 'sans,11'
set output pngout
set title ttl noenhanced
set xlabel 'configuration (build/pool/workers)'
set ylabel 'share of worker time (%)'
set key outside right top box autotitle columnhead
set grid ytics
set style data histograms
set style histogram rowstacked
set style fill solid 0.8 border -1
set boxwidth 0.7
set xtics rotate by 40 right
set yrange [0:100]
plot dat using 2:xtic(1) lc rgb '#c0392b' title 'waiting on locks', \
     '' using 3 lc rgb '#27ae60' title 'computing'
set terminal svg size 1000,640 noenhanced font 'sans,11'
set output svgout
replot
