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

package setup

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"

	"github.com/vishvananda/netlink"
	"k8s.io/klog/v2"
)

// DefaultInterfaceName is the link node-cache creates unless --interface-name
// says otherwise.
const DefaultInterfaceName = "nodelocaldns"

// ifaFlagNoDAD is IFA_F_NODAD: an IPv6 address usable at once, without
// duplicate address detection (which a link without carrier never finishes).
const ifaFlagNoDAD = 0x02

// Interface is the link that holds the local IPs so the kernel delivers
// traffic to them locally.
type Interface struct {
	// Name is the link name.
	Name string
	// LocalIPs are added as /32 (IPv4) and /128 (IPv6) host addresses.
	LocalIPs []netip.Addr
	// Handle is the netlink handle to use; nil means the current network
	// namespace. A handle from netlink.NewHandleAt works in another one.
	Handle *netlink.Handle
}

func (i *Interface) handle() *netlink.Handle {
	if i.Handle != nil {
		return i.Handle
	}
	return &netlink.Handle{}
}

// Ensure creates the link if it does not exist, sets it up and adds any local
// IP it lacks. It creates a dummy link; on kernels without the dummy driver it
// creates a bridge without ports instead. An existing link of any type is
// reused. Ensure is cheap when nothing is missing, so it can run every sync.
func (i *Interface) Ensure(ctx context.Context) error {
	logger := klog.FromContext(ctx)
	h := i.handle()
	link, err := h.LinkByName(i.Name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if !errors.As(err, &nf) {
			return fmt.Errorf("looking up link %q: %w", i.Name, err)
		}
		link, err = i.create(ctx, h)
		if err != nil {
			return err
		}
	}
	if link.Attrs().Flags&net.FlagUp == 0 {
		if err := h.LinkSetUp(link); err != nil {
			return fmt.Errorf("setting link %q up: %w", i.Name, err)
		}
		logger.Info("Set link up", "link", i.Name)
	}
	have, err := h.AddrList(link, netlink.FAMILY_ALL)
	if err != nil && !errors.Is(err, netlink.ErrDumpInterrupted) {
		return fmt.Errorf("listing addresses of link %q: %w", i.Name, err)
	}
	present := map[netip.Addr]bool{}
	for _, a := range have {
		if ip, ok := netip.AddrFromSlice(a.IP); ok {
			present[ip.Unmap()] = true
		}
	}
	var errs []error
	for _, ip := range i.LocalIPs {
		ip = ip.Unmap()
		if present[ip] {
			continue
		}
		addr := &netlink.Addr{IPNet: &net.IPNet{IP: ip.AsSlice(), Mask: net.CIDRMask(ip.BitLen(), ip.BitLen())}}
		if ip.Is6() {
			addr.Flags = ifaFlagNoDAD
		}
		if err := h.AddrReplace(link, addr); err != nil {
			errs = append(errs, fmt.Errorf("adding %s to link %q: %w", addr.IPNet, i.Name, err))
			continue
		}
		logger.Info("Added local IP", "link", i.Name, "address", addr.IPNet.String())
	}
	return errors.Join(errs...)
}

// create adds a dummy link, or a port-less bridge when dummy is unsupported.
func (i *Interface) create(ctx context.Context, h *netlink.Handle) (netlink.Link, error) {
	logger := klog.FromContext(ctx)
	attrs := netlink.NewLinkAttrs()
	attrs.Name = i.Name
	err := h.LinkAdd(&netlink.Dummy{LinkAttrs: attrs})
	kind := "dummy"
	if errors.Is(err, syscall.EOPNOTSUPP) {
		logger.Info("Link type dummy is not supported by this kernel, using a bridge without ports", "link", i.Name)
		kind = "bridge"
		err = h.LinkAdd(&netlink.Bridge{LinkAttrs: attrs})
	}
	if err != nil && !errors.Is(err, syscall.EEXIST) {
		return nil, fmt.Errorf("creating %s link %q: %w", kind, i.Name, err)
	}
	link, err := h.LinkByName(i.Name)
	if err != nil {
		return nil, fmt.Errorf("looking up link %q after creating it: %w", i.Name, err)
	}
	logger.Info("Created link", "link", i.Name, "type", link.Type())
	return link, nil
}

// Teardown deletes the link, and with it its addresses. A missing link is not
// an error.
func (i *Interface) Teardown(ctx context.Context) error {
	h := i.handle()
	link, err := h.LinkByName(i.Name)
	if err != nil {
		var nf netlink.LinkNotFoundError
		if errors.As(err, &nf) {
			return nil
		}
		return fmt.Errorf("looking up link %q: %w", i.Name, err)
	}
	if err := h.LinkDel(link); err != nil {
		return fmt.Errorf("deleting link %q: %w", i.Name, err)
	}
	klog.FromContext(ctx).Info("Deleted link", "link", i.Name, "type", link.Type())
	return nil
}
