# bash completion for giltrace: installed by `make install` into
# $(PREFIX)/share/bash-completion/completions/giltrace.
#
# Commands and options are read from giltrace's own --help, so this file
# never lists them again; what follows an option that takes a value
# (PIDs of Python processes, modes, formats, files) is completed here.

# PIDs of the processes giltrace traces: Python interpreters and the toy VM.
_giltrace_pids()
{
	local d comm
	for d in /proc/[0-9]*; do
		read -r comm 2>/dev/null <"$d/comm" || continue
		case $comm in
		python*|toyvm) printf '%s\n' "${d#/proc/}" ;;
		esac
	done
}

_giltrace()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	local prog=${COMP_WORDS[0]} cmd= i words
	COMPREPLY=()

	# After "--" the words are the command giltrace runs.
	for ((i = 1; i < COMP_CWORD; i++)); do
		if [[ ${COMP_WORDS[i]} == -- ]]; then
			if ((i == COMP_CWORD - 1)); then
				COMPREPLY=($(compgen -c -- "$cur"))
			else
				COMPREPLY=($(compgen -f -- "$cur"))
			fi
			return
		fi
	done
	if ((COMP_CWORD > 1)) && [[ ${COMP_WORDS[1]} != -* ]]; then
		cmd=${COMP_WORDS[1]}
	fi

	case $prev in
	-p|--pid)
		COMPREPLY=($(compgen -W "$(_giltrace_pids)" -- "$cur"))
		return ;;
	--mode)
		COMPREPLY=($(compgen -W "cond futex full hooks" -- "$cur"))
		return ;;
	--format)
		COMPREPLY=($(compgen -W "chrome csv" -- "$cur"))
		return ;;
	--weight)
		COMPREPLY=($(compgen -W "wait hold samples" -- "$cur"))
		return ;;
	-o|--output|--btf|--folded)
		COMPREPLY=($(compgen -f -- "$cur"))
		return ;;
	--user)
		COMPREPLY=($(compgen -u -- "$cur"))
		return ;;
	-d|--duration|-i|--interval|--buffer-kib|--max-size|--from|--to|--tid|--top|--width|\
	--listen|--comm|--exe)
		return ;;
	esac

	if [[ $cur == -* ]]; then
		words=$("$prog" $cmd --help 2>/dev/null | grep -o -- '--[a-z][a-z-]*' | sort -u)
		COMPREPLY=($(compgen -W "$words" -- "$cur"))
	elif ((COMP_CWORD == 1)); then
		words=$("$prog" --help 2>/dev/null |
			sed -n '/^Commands/,/^$/s/^  \([a-z]*\) .*/\1/p')
		COMPREPLY=($(compgen -W "$words" -- "$cur"))
	else
		# capture files for report, export and plot
		COMPREPLY=($(compgen -f -- "$cur"))
	fi
}
complete -F _giltrace giltrace
