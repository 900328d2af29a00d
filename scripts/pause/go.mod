module kbuild.local/pause

go 1.22
