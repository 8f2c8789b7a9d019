//go:build !unix

package faultinject

func kill() {}
