# speedup.gp - speedup over 1 worker against workers, one line per series
# of a workload, with the ideal (linear) line and each series' USL fit.
# Set by contend with -e: pngout, svgout (files contend opened), dat, usl, nser, nusl, xmax, ttl,
# cores (the machine's logical cores, 0 when unknown: a dotted line marks it).
# The key sits outside the plot area, right of it, so it never hides a line.
set terminal pngcairo size 1100,640 noenhanced font 'sans,11'
set output pngout
set title ttl noenhanced
set xlabel 'workers (count)'
set ylabel 'speedup over 1 worker (times)'
set key outside right top box autotitle columnhead
set grid
set xrange [1:xmax]
if (xmax <= 16) set xtics 1
set yrange [0:*]
set label 1 'bars: confidence interval of the median wall time; dashed: USL fit' at screen 0.99, screen 0.02 right font ',9'
if (cores > 0 && cores <= xmax) \
	set arrow 1 from cores, graph 0 to cores, graph 1 nohead dt 2 lw 1.5 lc 'gray20'; \
	set label 2 sprintf('%d cores', cores) at cores, graph 0.97 right offset -0.5, 0 font ',10'
if (cores > xmax) \
	set label 2 sprintf('machine: %d cores (beyond the axis)', cores) at graph 0.99, graph 0.97 right font ',10'
plot x with lines lc 'gray40' dt 3 lw 1.5 title 'ideal (linear)', \
     for [i=0:nser-1] dat index i using 1:2:3:4 with yerrorlines lc i+1 dt 1+i/8 lw 2 pt 7, \
     for [i=0:nusl-1] usl index i using 1:2:3 with lines lc variable dt (10,8) lw 1.2
set terminal svg size 1100,640 noenhanced font 'sans,11'
set output svgout
replot
