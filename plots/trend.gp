# trend.gp - median wall time of each configuration of a workload over the
# runs kept in the history, with confidence intervals; regressions circled.
# Set by contend with -e: pngout, svgout (files contend opened), dat, reg, nser, nreg (0 or 1), ttl.
set terminal pngcairo size 1000,640 noenhanced font 'sans,11'
set output pngout
set title ttl noenhanced
set xlabel 'run time (UTC)'
set ylabel 'median wall time (s)'
set key outside right top box autotitle columnhead
set grid
set xdata time
set timefmt '%Y-%m-%dT%H:%M:%S'
set format x "%m-%d\n%H:%M"
set yrange [0:*]
set offsets graph 0.03, graph 0.03, 0, 0
plot for [i=0:nser-1] dat index i using 1:2:3:4 with yerrorlines lc i+1 dt 1+i/8 lw 2 pt 7, \
     for [j=1:nreg] reg using 1:2 with points pt 6 ps 3 lw 2 lc rgb 'red' title 'regression'
set terminal svg size 1000,640 noenhanced font 'sans,11'
set output svgout
replot
