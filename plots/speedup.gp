# speedup.gp - speedup over 1 worker against workers, one line per series
# of a workload, with the ideal (linear) line and each series' USL fit.
# Set by contend with -e: pngout, svgout (files contend opened), dat, usl, nser, nusl, xmax, ttl.
set terminal pngcairo size 1000,640 noenhanced font 'sans,11'
set output pngout
set title ttl noenhanced
set xlabel 'workers (count)'
set ylabel 'speedup over 1 worker (times)'
set key top left box opaque autotitle columnhead
set grid
set xrange [1:xmax]
if (xmax <= 16) set xtics 1
set yrange [0:*]
set label 1 'bars: confidence interval of the median wall time; dashed: USL fit' at graph 0.99, graph 0.03 right font ',9'
plot x with lines lc 'gray40' dt 3 lw 1.5 title 'ideal (linear)', \
     for [i=0:nser-1] dat index i using 1:2:3:4 with yerrorlines lc i+1 dt 1+i/8 lw 2 pt 7, \
     for [i=0:nusl-1] usl index i using 1:2:3 with lines lc variable dt (10,8) lw 1.2
set terminal svg size 1000,640 noenhanced font 'sans,11'
set output svgout
replot
