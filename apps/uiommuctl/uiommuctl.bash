# SPDX-License-Identifier: BSD-3-Clause
# bash completion for uiommuctl(8).
#
# Everything comes from uiommuctl itself, so a new command or option needs
# no change here: objects, verbs and each command's options and arguments
# from `uiommuctl --help` (its "Commands:" and "Options:" sections), the
# names of existing objects from `uiommuctl -j --state NAME OBJECT list`
# (which never creates a state).  An argument is completed by its
# placeholder in the usage: UNIT, DEVICE, IOAS, HWPT: objects of the state;
# FILE, LAYOUT, PATH: files; DIR: directories; an option value from a
# list in the usage ("--prot r|w|rw") by that list.

# The help text of uiommuctl binary $1, cached per binary.
_uiommuctl_help()
{
	if [[ "${_uiommuctl_help_bin-}" != "$1" ]]; then
		_uiommuctl_help_text=$("$1" --help 2>/dev/null)
		_uiommuctl_help_bin=$1
	fi
	printf '%s\n' "$_uiommuctl_help_text"
}

# Lines of the "Commands:" section: "OBJECT [VERB] ..." (summary included).
_uiommuctl_commands()
{
	_uiommuctl_help "$1" | awk '/^Commands:/ { on = 1; next } on && /^$/ { exit }
		on { sub(/^  /, ""); print }'
}

# The arguments of OBJECT [VERB], from `uiommuctl OBJECT [VERB] --help`
# ("Usage: uiommuctl OBJECT VERB ARGS").
_uiommuctl_usage()
{
	local bin=$1 obj=$2 verb=$3 line
	line=$("$bin" "$obj" ${verb:+"$verb"} --help 2>/dev/null | sed -n '1s/^Usage: uiommuctl //p')
	[[ -n "$line" ]] || return 1
	printf '%s\n' "${line#"$obj${verb:+ $verb}"}"
}

# Does OBJECT have verbs?  Prints them.
_uiommuctl_verbs()
{
	_uiommuctl_commands "$1" | awk -v o="$2" '$1 == o && $2 ~ /^[a-z][a-z-]*$/ { print $2 }'
}

# Positional placeholders of a usage string, in order (UNIT, DEVICE, ...).
_uiommuctl_positionals()
{
	local t s opt=0 toks
	read -r -a toks <<<"$1" # split on blanks, no globbing ("[--id" is no pattern)
	for t in "${toks[@]}"; do
		s=$t
		while [[ "$s" == [[\(]* ]]; do s=${s:1}; done
		if [[ "$s" == -* ]]; then
			opt=1 # an option; a placeholder right after it is its value
		elif (( opt )) && [[ "$s" =~ ^[A-Z] ]]; then
			opt=0
		else
			opt=0
			[[ "$s" =~ ^([A-Z][A-Z_]*) ]] && printf '%s\n' "${BASH_REMATCH[1]}"
		fi
	done
}

# Names (or IDs of unnamed objects) of the objects of kind $2 in state $3.
_uiommuctl_objects()
{
	local bin=$1 kind=$2 state=$3
	"$bin" -j --wait 1 --state "$state" "$kind" list 2>/dev/null |
		awk '/^    "id": / { id = $2; sub(/,$/, "", id) }
		     /^    "name": / { n = $0; sub(/^    "name": "/, "", n); sub(/",?$/, "", n);
				       print (n != "" ? n : id) }'
}

_uiommuctl()
{
	local cur=${COMP_WORDS[COMP_CWORD]} prev=
	local bin=${COMP_WORDS[0]} i w obj= verb= model= state= npos=0 usage opts re
	(( COMP_CWORD > 0 )) && prev=${COMP_WORDS[COMP_CWORD - 1]}
	[[ "$bin" == */* || -n "$(type -P "$bin")" ]] || return 0
	COMPREPLY=()

	# What is on the line already: global options, object, verb, positionals.
	for (( i = 1; i < COMP_CWORD; i++ )); do
		w=${COMP_WORDS[i]}
		case "$w" in
		--model) model=${COMP_WORDS[i + 1]-}; (( i++ )); continue ;;
		--state) state=${COMP_WORDS[i + 1]-}; (( i++ )); continue ;;
		--acpi|--wait) (( i++ )); continue ;;
		--model=*) model=${w#*=}; continue ;;
		--state=*) state=${w#*=}; continue ;;
		-*) if [[ -n "$obj" ]]; then
			usage=$(_uiommuctl_usage "$bin" "$obj" "$verb")
			# An option followed by a placeholder in the usage takes a value.
			re="(^|[[(| ])$w [[(]*[A-Z]"
			[[ "$usage" =~ $re ]] && (( i++ ))
		    fi
		    continue ;;
		esac
		if [[ -z "$obj" ]]; then
			obj=$w
		elif [[ -z "$verb" && -n "$(_uiommuctl_verbs "$bin" "$obj")" ]]; then
			verb=$w
		else
			(( npos++ ))
		fi
	done
	if [[ -z "$state" ]]; then
		if [[ -n "${UIOMMUCTL_STATE-}" ]]; then
			state=$UIOMMUCTL_STATE
		elif [[ -n "$model" ]]; then
			state=model-${model%%:*}
		else
			state=hw
		fi
	fi

	# The value of an option.
	case "$prev" in
	--acpi) COMPREPLY=($(compgen -d -- "$cur")); return 0 ;;
	--model)
		COMPREPLY=($(compgen -W "$(_uiommuctl_help "$bin" |
			sed -n 's/.*); models: \([a-z0-9 ]*\)$/\1/p')" -- "$cur"))
		return 0 ;;
	--state)
		# Model states in /dev/shm, hardware states on hugetlbfs.
		COMPREPLY=($(compgen -W "$(ls "/dev/shm/uiommu-$(id -u)" \
			"${UIOMMU_HUGE_DIR:-/dev/hugepages}/uiommu-$(id -u)" 2>/dev/null |
			grep -v -e '~' -e ':$' -e '^$')" -- "$cur"))
		return 0 ;;
	--wait) return 0 ;;
	esac
	if [[ -n "$obj" && "$prev" == -* ]]; then
		usage=$(_uiommuctl_usage "$bin" "$obj" "$verb")
		re="(^|[[(| ])$prev [[(]*([A-Z][A-Z_]*)"
		if [[ "$usage" =~ $re ]]; then
			case "${BASH_REMATCH[2]}" in
			FILE|PATH|LAYOUT) COMPREPLY=($(compgen -f -- "$cur")) ;;
			DIR) COMPREPLY=($(compgen -d -- "$cur")) ;;
			esac
			return 0
		fi
		# A value from a list in the usage ("--prot r|w|rw").
		re="(^|[[(| ])$prev ([a-z][a-z0-9|]*)"
		if [[ "$usage" =~ $re ]]; then
			COMPREPLY=($(compgen -W "${BASH_REMATCH[2]//|/ }" -- "$cur"))
			return 0
		fi
	fi

	local globals
	globals=$(_uiommuctl_help "$bin" | awk '/^Options:/ { on = 1; next } on && /^$/ { exit }
		on { for (i = 1; i <= NF && $i ~ /^-/; i++) { o = $i; sub(/[,=\[].*$/, "", o); print o } }')

	if [[ -z "$obj" ]]; then
		if [[ "$cur" == -* ]]; then
			COMPREPLY=($(compgen -W "$globals" -- "$cur"))
		else
			COMPREPLY=($(compgen -W "$(_uiommuctl_commands "$bin" | awk '{ print $1 }' |
				sort -u)" -- "$cur"))
		fi
		return 0
	fi
	local verbs
	verbs=$(_uiommuctl_verbs "$bin" "$obj")
	if [[ -n "$verbs" && -z "$verb" ]]; then
		COMPREPLY=($(compgen -W "$verbs" -- "$cur"))
		return 0
	fi
	usage=$(_uiommuctl_usage "$bin" "$obj" "$verb") || return 0
	if [[ "$cur" == -* ]]; then
		opts=$(printf '%s\n' "$usage" | grep -o -- '-[-a-z][-a-z]*' | sort -u)
		COMPREPLY=($(compgen -W "$opts $globals" -- "$cur"))
		return 0
	fi
	local pos
	pos=$(_uiommuctl_positionals "$usage" | sed -n "$((npos + 1))p")
	case "$pos" in
	UNIT|DEVICE|IOAS|HWPT)
		local kind=${pos,,}
		COMPREPLY=($(compgen -W "$(_uiommuctl_objects "$bin" "$kind" "$state")" -- "$cur")) ;;
	FILE|PATH|LAYOUT) COMPREPLY=($(compgen -f -- "$cur")) ;;
	DIR) COMPREPLY=($(compgen -d -- "$cur")) ;;
	esac
	return 0
}
complete -F _uiommuctl uiommuctl
