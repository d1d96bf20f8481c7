# memory.gp - resident memory (pool processes included) over the time of a
# repetition, one line per configuration of a workload.
# Set by contend with -e: pngout, svgout (files contend opened), dat, nser, ttl.
set terminal pngcairo size 1000,640 noenhanced font 'sans,11'
set output pngout
set title ttl noenhanced
set xlabel 'time since the repetition started (s)'
set ylabel 'resident memory (MiB)'
set key outside right top box autotitle columnhead
set grid
set yrange [0:*]
plot for [i=0:nser-1] dat index i using 1:2 with lines lc i+1 dt 1+i/8 lw 2
set terminal svg size 1000,640 noenhanced font 'sans,11'
set output svgout
replot
