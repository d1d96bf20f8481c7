# builds.gp - the same configurations built as release and as linetrace,
# side by side: what the instrumentation costs at each worker count.
# Set by contend with -e: pngout, svgout (files contend opened), dat, ncol (2 + linetrace variants), ttl.
set terminal pngcairo size 1000,640 noenhanced font 'sans,11'
set output pngout
set title ttl noenhanced
set xlabel 'configuration (pool/workers)'
set ylabel 'median wall time (s)'
set key outside right top box autotitle columnhead
set grid ytics
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set xtics rotate by 40 right
set yrange [0:*]
set datafile missing '?'
plot for [i=2:ncol] dat using i:xtic(1) lc i-1 title columnhead(i)
set terminal svg size 1000,640 noenhanced font 'sans,11'
set output svgout
replot
