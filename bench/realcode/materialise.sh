#!/usr/bin/env bash
# Recreate the evaluation files listed in bench/realcode/manifest.toml, outside the repository.
#
#   bench/realcode/materialise.sh [MIRRORS] [DEST] [MANIFEST]
#
# MIRRORS (optional): a folder of git mirrors named <owner>+<repo>/repo (as the fetch tool leaves them);
#   a repository found there is read offline, any other one is cloned with `git clone --filter=blob:none`.
# DEST (default /work/eval/files): each file lands at DEST/<owner>+<repo>/<commit>/<path>.
# MANIFEST (default bench/realcode/manifest.toml): the list of files.
# Public code is never copied into the repository: only the manifest (repo, commit, path) is committed.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
mirrors=${1:-}
dest=${2:-/work/eval/files}
manifest=${3:-$here/manifest.toml}
clones="$dest/.clones"
mkdir -p "$dest"

git_dir_for() {  # print the git directory holding $1 (owner/repo), cloning it blob-less when no mirror has it
    local key=${1/\//+}
    if [[ -n "$mirrors" && -d "$mirrors/$key/repo/.git" ]]; then  # a mirror with a work tree
        echo "$mirrors/$key/repo/.git"
        return
    fi
    if [[ -n "$mirrors" && -d "$mirrors/$key/repo" ]]; then
        echo "$mirrors/$key/repo"
        return
    fi
    if [[ ! -d "$clones/$key.git" ]]; then
        git clone --quiet --bare --filter=blob:none "https://github.com/$1.git" "$clones/$key.git" >&2 || return 1
    fi
    echo "$clones/$key.git"
}

show() {  # print $3 at commit $2 from git dir $1; a commit no branch holds (a PR's) is fetched by its id
    git --git-dir="$1" show "$2:$3" 2>/dev/null && return
    [[ "$1" == "$clones"/* ]] && git --git-dir="$1" fetch --quiet --filter=blob:none origin "$2" >&2 &&
        git --git-dir="$1" show "$2:$3" 2>/dev/null
}

made=0 kept=0 failed=0
while IFS=$'\t' read -r repo commit path; do
    out="$dest/${repo/\//+}/$commit/$path"
    if [[ -s "$out" ]]; then
        kept=$((kept + 1))
        continue
    fi
    mkdir -p "$(dirname "$out")"
    if gitdir=$(git_dir_for "$repo") && show "$gitdir" "$commit" "$path" > "$out.part"; then
        mv "$out.part" "$out"
        made=$((made + 1))
    else
        rm -f "$out.part"
        echo "could not materialise $repo@$commit:$path" >&2
        failed=$((failed + 1))
    fi
done < <(python3 -c '
import sys
try:
    import tomllib
except ImportError:  # Python 3.10: the tomli backport, as tllint itself
    import tomli as tomllib
with open(sys.argv[1], "rb") as handle:
    for entry in tomllib.load(handle)["file"]:
        print(entry["repo"], entry["commit"], entry["path"], sep="\t")
' "$manifest")
echo "materialised $made, already there $kept, failed $failed -> $dest"
[[ $failed -eq 0 ]]
