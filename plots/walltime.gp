# walltime.gp - median wall time of every configuration of a workload, with
# the confidence interval of the median as error bars.
# Set by contend with -e: pngout, svgout (files contend opened), dat, ttl.
set terminal pngcairo size 1000,640 noenhanced font 'sans,11'
set output pngout
set title ttl noenhanced
set xlabel 'configuration (build/pool/workers)'
set ylabel 'median wall time (s)'
set key outside right top box autotitle columnhead
set grid ytics
set style fill solid 0.5 border -1
set boxwidth 0.6
set xtics rotate by 40 right
set yrange [0:*]
set xrange [-0.6:*]
plot dat using 0:2:xtic(1) with boxes lc 2 title 'median wall time', \
     '' using 0:2:3:4 with yerrorbars lc 'black' pt 0 title 'confidence interval of the median'
set terminal svg size 1000,640 noenhanced font 'sans,11'
set output svgout
replot
