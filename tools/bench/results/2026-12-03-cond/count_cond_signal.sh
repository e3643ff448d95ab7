#!/bin/bash
# usage: count_cond_signal.sh PYTHON N -- counts pthread_cond_signal/timedwait hits per round trip of pingpong.py
# Offsets: pthread_cond_signal@@GLIBC_2.3.2 (0x87e20) and pthread_cond_timedwait@@GLIBC_2.3.2
# (0x886a0) in Debian 12's libc.so.6, from readelf -sW --dyn-syms (bpftrace would resolve the
# unversioned names to the GLIBC_2.2.5 compatibility symbols).
PY=$1; N=$2
coproc T { taskset -c 0 $PY "$(dirname "$0")"/../../py/pingpong.py $N; }
read -u ${T[0]} line
PID=$T_PID
PID=$(pgrep -P $PID || echo $PID)
bpftrace -p $PID -e "uprobe:/lib/x86_64-linux-gnu/libc.so.6:0x87e20 /pid == $PID/ { @signal = count(); } uprobe:/lib/x86_64-linux-gnu/libc.so.6:0x886a0 /pid == $PID/ { @timedwait = count(); } tracepoint:syscalls:sys_enter_futex /pid == $PID/ { @futex = count(); } tracepoint:syscalls:sys_enter_sendto /pid == $PID/ { @sendto = count(); }" > /tmp/count_cond_signal.out 2>&1 &
B=$!
sleep 4
echo go >&${T[1]}
read -u ${T[0]} line; echo "$line"
wait $T_PID 2>/dev/null
sleep 1; kill -INT $B; wait $B; cat /tmp/count_cond_signal.out
