/*
Copyright 2026 The signet Authors.

Licensed under the Apache License, Version 2.0 (the "License");
you may not use this file except in compliance with the License.
You may obtain a copy of the License at

    http://www.apache.org/licenses/LICENSE-2.0

Unless required by applicable law or agreed to in writing, software
distributed under the License is distributed on an "AS IS" BASIS,
WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
See the License for the specific language governing permissions and
limitations under the License.
*/

package nodeagent

import (
	"errors"
	"fmt"
	"net/netip"
	"testing"
)

func TestAllocator(t *testing.T) {
	t.Run("IPv4 /24 skips network, gateway and broadcast", func(t *testing.T) {
		a, err := NewAllocator(netip.MustParsePrefix("10.244.1.0/24"))
		if err != nil {
			t.Fatal(err)
		}
		if a.Gateway().String() != "10.244.1.1" || a.Size() != 253 {
			t.Fatalf("gateway %s size %d", a.Gateway(), a.Size())
		}
		seen := map[netip.Addr]bool{}
		for i := 0; i < a.Size(); i++ {
			ip, err := a.Allocate(fmt.Sprint(i))
			if err != nil {
				t.Fatalf("allocation %d: %v", i, err)
			}
			if seen[ip] || !a.Contains(ip) || ip.String() == "10.244.1.0" || ip.String() == "10.244.1.1" || ip.String() == "10.244.1.255" {
				t.Fatalf("allocation %d: %s", i, ip)
			}
			seen[ip] = true
		}
		if _, err := a.Allocate("one too many"); !errors.Is(err, ErrPoolFull) {
			t.Errorf("allocating from a full pool: %v, want ErrPoolFull", err)
		}
	})
	t.Run("round robin does not hand a freed address out at once", func(t *testing.T) {
		a, _ := NewAllocator(netip.MustParsePrefix("10.244.1.0/29")) // .2-.6
		first, _ := a.Allocate("a")
		second, _ := a.Allocate("b")
		a.Release(first)
		third, _ := a.Allocate("c")
		if first.String() != "10.244.1.2" || second.String() != "10.244.1.3" || third.String() != "10.244.1.4" {
			t.Errorf("got %s %s %s, want .2 .3 .4", first, second, third)
		}
		for _, want := range []string{"10.244.1.5", "10.244.1.6", "10.244.1.2"} {
			if got, err := a.Allocate("x"); err != nil || got.String() != want {
				t.Errorf("got %s (%v), want %s (wrapping to the freed .2)", got, err, want)
			}
		}
	})
	t.Run("IPv6 /64 uses the start of the range", func(t *testing.T) {
		a, err := NewAllocator(netip.MustParsePrefix("fd00:244:1::/64"))
		if err != nil {
			t.Fatal(err)
		}
		ip, _ := a.Allocate("a")
		if a.Gateway().String() != "fd00:244:1::1" || ip.String() != "fd00:244:1::2" || a.Size() != maxPoolSize {
			t.Errorf("gateway %s, first %s, size %d", a.Gateway(), ip, a.Size())
		}
	})
	t.Run("a restart reserves what pods hold and goes on round robin", func(t *testing.T) {
		a, _ := NewAllocator(netip.MustParsePrefix("10.244.1.0/24"))
		for _, ip := range []string{"10.244.1.2", "10.244.1.3"} {
			if err := a.Reserve(netip.MustParseAddr(ip), "pod-"+ip); err != nil {
				t.Fatal(err)
			}
		}
		a.SetLastHanded(netip.MustParseAddr("10.244.1.9"))
		if got, _ := a.Allocate("new"); got.String() != "10.244.1.10" {
			t.Errorf("after a restart got %s, want 10.244.1.10", got)
		}
		if err := a.Reserve(netip.MustParseAddr("10.244.1.2"), "pod-10.244.1.2"); err != nil {
			t.Errorf("reserving again for the same owner: %v", err)
		}
		if err := a.Reserve(netip.MustParseAddr("10.244.1.2"), "someone else"); err == nil {
			t.Error("reserving an address held by another pod succeeded")
		}
		for _, ip := range []string{"10.244.1.1", "10.244.1.255", "10.244.2.7"} {
			if err := a.Reserve(netip.MustParseAddr(ip), "x"); err == nil {
				t.Errorf("reserving %s succeeded", ip)
			}
		}
	})
	for _, bad := range []string{"10.244.1.5/24", "10.244.1.0/31", "fd00::/127"} {
		if _, err := NewAllocator(netip.MustParsePrefix(bad)); err == nil {
			t.Errorf("NewAllocator(%s) succeeded", bad)
		}
	}
}
