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

// Package validation checks EndpointSlices of the discovery.signet.dev group
// (in their internal form) before they are stored.
package validation

import (
	"fmt"
	"net/netip"
	"sort"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/validate/content"
	apivalidation "k8s.io/apimachinery/pkg/api/validation"
	"k8s.io/apimachinery/pkg/util/validation"
	"k8s.io/apimachinery/pkg/util/validation/field"

	"signet.dev/signet/pkg/apis/discovery"
)

// addressTypes lists the accepted values of addressType, in the order they
// are shown to users.
var addressTypes = []discovery.AddressType{
	discovery.AddressTypeIPv4,
	discovery.AddressTypeIPv6,
	discovery.AddressTypeFQDN,
}

// portProtocols lists the accepted values of a port's protocol, in the
// order they are shown to users.
var portProtocols = []corev1.Protocol{
	corev1.ProtocolTCP,
	corev1.ProtocolUDP,
	corev1.ProtocolSCTP,
}

// ValidateEndpointSlice checks a whole EndpointSlice as it would be stored on
// create. Every problem found is returned, each with the path of the field at
// fault (addressType, endpoints[i]..., ports[i]..., metadata...).
func ValidateEndpointSlice(slice *discovery.EndpointSlice) field.ErrorList {
	allErrs := apivalidation.ValidateObjectMeta(&slice.ObjectMeta, true, apivalidation.NameIsDNSSubdomain, field.NewPath("metadata"))
	allErrs = append(allErrs, validateAddressType(slice.AddressType, field.NewPath("addressType"))...)
	allErrs = append(allErrs, validateEndpoints(slice.Endpoints, slice.AddressType, field.NewPath("endpoints"))...)
	allErrs = append(allErrs, validatePorts(slice.Ports, field.NewPath("ports"))...)
	return allErrs
}

// ValidateEndpointSliceUpdate checks newSlice as a replacement of oldSlice:
// the metadata update rules, every rule of ValidateEndpointSlice applied to
// newSlice, and that addressType did not change.
func ValidateEndpointSliceUpdate(newSlice, oldSlice *discovery.EndpointSlice) field.ErrorList {
	allErrs := apivalidation.ValidateObjectMetaUpdate(&newSlice.ObjectMeta, &oldSlice.ObjectMeta, field.NewPath("metadata"))
	allErrs = append(allErrs, ValidateEndpointSlice(newSlice)...)
	allErrs = append(allErrs, apivalidation.ValidateImmutableField(newSlice.AddressType, oldSlice.AddressType, field.NewPath("addressType"))...)
	// The metadata update check and the create check both look at labels,
	// annotations, owner references and managed fields; report each of
	// those problems once.
	return dropRepeats(allErrs)
}

// dropRepeats returns errs without the errors that repeat an earlier one
// exactly (same type, path, value and detail), keeping the original order.
func dropRepeats(errs field.ErrorList) field.ErrorList {
	if len(errs) < 2 {
		return errs
	}
	seen := make(map[string]bool, len(errs))
	out := errs[:0:0]
	for _, e := range errs {
		key := e.Error()
		if seen[key] {
			continue
		}
		seen[key] = true
		out = append(out, e)
	}
	return out
}

// validateAddressType requires one of the known address types.
func validateAddressType(addressType discovery.AddressType, fldPath *field.Path) field.ErrorList {
	if addressType == "" {
		return field.ErrorList{field.Required(fldPath, "must say which kind of address the endpoints hold: IPv4, IPv6 or FQDN")}
	}
	for _, known := range addressTypes {
		if addressType == known {
			return nil
		}
	}
	return field.ErrorList{field.NotSupported(fldPath, addressType, addressTypes)}
}

// validateEndpoints checks the endpoint list. When the list is over the limit
// only that is reported: the slice has to be split anyway, and checking every
// entry of an oversized list would only make a large error list larger.
func validateEndpoints(endpoints []discovery.Endpoint, addressType discovery.AddressType, fldPath *field.Path) field.ErrorList {
	if len(endpoints) > discovery.MaxEndpointsPerSlice {
		return field.ErrorList{field.TooMany(fldPath, len(endpoints), discovery.MaxEndpointsPerSlice)}
	}
	var allErrs field.ErrorList
	for i := range endpoints {
		allErrs = append(allErrs, validateEndpoint(&endpoints[i], addressType, fldPath.Index(i))...)
	}
	return allErrs
}

func validateEndpoint(endpoint *discovery.Endpoint, addressType discovery.AddressType, fldPath *field.Path) field.ErrorList {
	var allErrs field.ErrorList

	addrPath := fldPath.Child("addresses")
	switch n := len(endpoint.Addresses); {
	case n == 0:
		allErrs = append(allErrs, field.Required(addrPath, "must hold at least 1 address"))
	case n > discovery.MaxAddressesPerEndpoint:
		// As for endpoints, an oversized list is reported once and its
		// entries are not checked one by one.
		allErrs = append(allErrs, field.TooMany(addrPath, n, discovery.MaxAddressesPerEndpoint))
	default:
		for i, address := range endpoint.Addresses {
			allErrs = append(allErrs, validateAddress(address, addressType, addrPath.Index(i))...)
		}
	}

	if endpoint.Hostname != nil {
		hostPath := fldPath.Child("hostname")
		allErrs = append(allErrs, invalidIf(hostPath, *endpoint.Hostname, "must be a DNS label: ", validation.IsDNS1123Label(*endpoint.Hostname))...)
	}

	if endpoint.NodeName != nil {
		nodePath := fldPath.Child("nodeName")
		allErrs = append(allErrs, invalidIf(nodePath, *endpoint.NodeName, "must be a valid Node name: ", validation.IsDNS1123Subdomain(*endpoint.NodeName))...)
	}

	if endpoint.Zone != nil {
		zonePath := fldPath.Child("zone")
		allErrs = append(allErrs, invalidIf(zonePath, *endpoint.Zone, "must be a valid label value: ", content.IsLabelValue(*endpoint.Zone))...)
	}

	allErrs = append(allErrs, validateTopology(endpoint.Topology, fldPath.Child("topology"))...)

	if ref := endpoint.TargetRef; ref != nil {
		refPath := fldPath.Child("targetRef")
		if ref.Kind == "" {
			allErrs = append(allErrs, field.Required(refPath.Child("kind"), "must name the kind of the referenced object, such as Pod"))
		}
		if ref.Name == "" {
			allErrs = append(allErrs, field.Required(refPath.Child("name"), "must name the referenced object"))
		}
	}

	return allErrs
}

// validateTopology checks that the topology map is a valid set of labels. Each
// error is reported under the offending key, and keys are visited in sorted
// order so that the same input always yields the same error list.
func validateTopology(topology map[string]string, fldPath *field.Path) field.ErrorList {
	if len(topology) == 0 {
		return nil
	}
	keys := make([]string, 0, len(topology))
	for k := range topology {
		keys = append(keys, k)
	}
	sort.Strings(keys)

	var allErrs field.ErrorList
	for _, k := range keys {
		keyPath := fldPath.Key(k)
		allErrs = append(allErrs, invalidIf(keyPath, k, "key must be a valid label key: ", content.IsQualifiedName(k))...)
		allErrs = append(allErrs, invalidIf(keyPath, topology[k], "value must be a valid label value: ", content.IsLabelValue(topology[k]))...)
	}
	return allErrs
}

// validateAddress checks one endpoint address against the slice's address
// type. An unknown or missing address type is reported at addressType only;
// the addresses are then left alone, since there is no rule to apply.
func validateAddress(address string, addressType discovery.AddressType, fldPath *field.Path) field.ErrorList {
	switch addressType {
	case discovery.AddressTypeIPv4, discovery.AddressTypeIPv6:
		if address == "" {
			return field.ErrorList{field.Required(fldPath, fmt.Sprintf("must be an %s address", addressType))}
		}
		if msg := checkIP(address, addressType); msg != "" {
			return field.ErrorList{field.Invalid(fldPath, address, msg)}
		}
	case discovery.AddressTypeFQDN:
		if address == "" {
			return field.ErrorList{field.Required(fldPath, "must be a domain name (e.g. 'backend.example.com')")}
		}
		return invalidIf(fldPath, address, "must be a domain name: ", validation.IsDNS1123Subdomain(address))
	}
	return nil
}

// checkIP returns why address cannot be an endpoint of an addressType slice
// (IPv4 or IPv6), or "" when it can. Only the first problem is reported: for
// example an IPv6 address in an IPv4 slice is not also checked for being
// loopback.
func checkIP(address string, addressType discovery.AddressType) string {
	wantV4 := addressType == discovery.AddressTypeIPv4
	example := "10.1.2.3"
	if !wantV4 {
		example = "2001:db8::1"
	}

	ip, err := netip.ParseAddr(address)
	if err != nil {
		if fixed, ok := withoutLeadingZeros(address); ok && wantV4 {
			return fmt.Sprintf("must not have leading zeros in an octet: some software reads such octets as octal, so the address is ambiguous; write %s if the octets are decimal", fixed)
		}
		return fmt.Sprintf("must be a valid %s address (e.g. %s)", addressType, example)
	}
	if wantV4 {
		if ip.Is4In6() {
			return fmt.Sprintf("must be written as a plain IPv4 address, not an IPv4-mapped IPv6 address: use %s", ip.Unmap())
		}
		if !ip.Is4() {
			return "must be an IPv4 address because addressType is IPv4; put IPv6 addresses in an EndpointSlice whose addressType is IPv6"
		}
	} else {
		if ip.Is4() {
			return "must be an IPv6 address because addressType is IPv6; put IPv4 addresses in an EndpointSlice whose addressType is IPv4"
		}
		if ip.Is4In6() {
			return fmt.Sprintf("must not be an IPv4-mapped IPv6 address: put %s in an EndpointSlice whose addressType is IPv4", ip.Unmap())
		}
		if ip.Zone() != "" {
			return fmt.Sprintf("must not carry a zone suffix (%%%s): zones are local to one host; use the address alone", ip.Zone())
		}
		if canonical := ip.String(); canonical != address {
			return fmt.Sprintf("must be written in canonical form (RFC 5952): use %s", canonical)
		}
	}

	return checkUsableIP(ip)
}

// checkUsableIP rejects the special ranges that never identify one remote
// host, and explains why. It returns "" for a usable address.
func checkUsableIP(ip netip.Addr) string {
	switch {
	case ip.IsUnspecified():
		return fmt.Sprintf("must not be the unspecified address (%s): it means \"any address\" and names no host that a client could connect to", ip)
	case ip.IsLoopback():
		return fmt.Sprintf("must not be a loopback address (%s): every client would connect to itself instead of to this endpoint", pick(ip, "127.0.0.0/8", "::1"))
	case ip.IsLinkLocalUnicast():
		return fmt.Sprintf("must not be a link-local address (%s): it is only reachable on one network link, so clients elsewhere in the cluster cannot reach this endpoint", pick(ip, "169.254.0.0/16", "fe80::/10"))
	case ip.IsLinkLocalMulticast():
		return fmt.Sprintf("must not be a link-local multicast address (%s): it addresses a group of hosts on one network link, not a single endpoint", pick(ip, "224.0.0.0/24", "ff02::/16 or another link-local-scope group"))
	}
	return ""
}

// pick returns v4 or v6 according to the family of ip.
func pick(ip netip.Addr, v4, v6 string) string {
	if ip.Is4() {
		return v4
	}
	return v6
}

// withoutLeadingZeros reports whether s is dotted-decimal IPv4 text (four
// groups of one to three digits, each at most 255) in which some group has a
// redundant leading zero, such as "010.0.0.1". If so it also returns the
// address with those zeros removed.
func withoutLeadingZeros(s string) (string, bool) {
	groups := strings.Split(s, ".")
	if len(groups) != 4 {
		return "", false
	}
	found := false
	for i, g := range groups {
		if len(g) == 0 || len(g) > 3 {
			return "", false
		}
		if strings.Trim(g, "0123456789") != "" {
			return "", false
		}
		n, err := strconv.Atoi(g)
		if err != nil || n > 255 {
			return "", false
		}
		if len(g) > 1 && g[0] == '0' {
			found = true
		}
		groups[i] = strconv.Itoa(n)
	}
	return strings.Join(groups, "."), found
}

// validatePorts checks the port list. Port names are compared after treating
// an unset name like the empty name, so two unnamed ports collide.
func validatePorts(ports []discovery.EndpointPort, fldPath *field.Path) field.ErrorList {
	if len(ports) > discovery.MaxPortsPerSlice {
		return field.ErrorList{field.TooMany(fldPath, len(ports), discovery.MaxPortsPerSlice)}
	}

	var allErrs field.ErrorList
	firstUse := make(map[string]int, len(ports))
	for i := range ports {
		port := &ports[i]
		idxPath := fldPath.Index(i)

		namePath := idxPath.Child("name")
		name := ""
		if port.Name != nil {
			name = *port.Name
		}
		if name != "" {
			allErrs = append(allErrs, invalidIf(namePath, name, "must be empty or a DNS label: ", validation.IsDNS1123Label(name))...)
		}
		if j, seen := firstUse[name]; seen {
			dup := field.Duplicate(namePath, name)
			if name == "" {
				dup.Detail = fmt.Sprintf("ports[%d] is also unnamed; when a slice has more than one port, each must have a distinct name", j)
			} else {
				dup.Detail = fmt.Sprintf("ports[%d] already uses this name; port names must be unique within the slice", j)
			}
			allErrs = append(allErrs, dup)
		} else {
			firstUse[name] = i
		}

		protoPath := idxPath.Child("protocol")
		if port.Protocol == nil {
			allErrs = append(allErrs, field.Required(protoPath, "must be one of TCP, UDP or SCTP"))
		} else if !isKnownProtocol(*port.Protocol) {
			allErrs = append(allErrs, field.NotSupported(protoPath, *port.Protocol, portProtocols))
		}

		if port.Port != nil {
			if msgs := validation.IsValidPortNum(int(*port.Port)); len(msgs) > 0 {
				msgs = append(msgs, "leave port unset to mean every port")
				allErrs = append(allErrs, invalidIf(idxPath.Child("port"), *port.Port, "", msgs)...)
			}
		}

		if port.AppProtocol != nil {
			if msgs := content.IsQualifiedName(*port.AppProtocol); len(msgs) > 0 {
				msgs = append(msgs, "examples of valid values: 'http', 'kubernetes.io/h2c', 'example.com/proto'")
				allErrs = append(allErrs, invalidIf(idxPath.Child("appProtocol"), *port.AppProtocol, "must be a qualified name: ", msgs)...)
			}
		}
	}
	return allErrs
}

func isKnownProtocol(p corev1.Protocol) bool {
	for _, known := range portProtocols {
		if p == known {
			return true
		}
	}
	return false
}

// invalidIf turns the messages of a format check into at most one Invalid
// error, so that a value failing several parts of a rule (too long and bad
// characters, say) is reported once, with every reason, after prefix.
func invalidIf(fldPath *field.Path, value any, prefix string, msgs []string) field.ErrorList {
	if len(msgs) == 0 {
		return nil
	}
	return field.ErrorList{field.Invalid(fldPath, value, prefix+strings.Join(msgs, "; "))}
}
