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

package controller

import (
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	apiequality "k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"

	networkingv1 "signet.dev/api/networking/v1"
)

// maxMessageLength is the longest condition message the API accepts.
const maxMessageLength = 32768

// ParsePublishAddresses turns the --publish-address list into status
// addresses: IPs (either family, written canonically) as ip, DNS names as
// hostname. Duplicates are dropped; the order is kept.
func ParsePublishAddresses(addrs []string) ([]networkingv1.IngressLoadBalancerIngress, error) {
	var out []networkingv1.IngressLoadBalancerIngress
	seen := map[string]bool{}
	for _, a := range addrs {
		a = strings.TrimSpace(a)
		if a == "" {
			continue
		}
		var lb networkingv1.IngressLoadBalancerIngress
		if ip, err := netip.ParseAddr(a); err == nil {
			if ip.Zone() != "" {
				return nil, fmt.Errorf("publish address %q: an IPv6 zone is not allowed", a)
			}
			lb.IP = ip.Unmap().String()
		} else if strings.ContainsAny(a, ":[]") {
			return nil, fmt.Errorf("publish address %q is neither an IP address nor a DNS name", a)
		} else {
			host := strings.ToLower(strings.TrimSuffix(a, "."))
			if msgs := validation.IsDNS1123Subdomain(host); len(msgs) > 0 {
				return nil, fmt.Errorf("publish address %q is neither an IP address nor a DNS name: %s", a, strings.Join(msgs, "; "))
			}
			lb.Hostname = host
		}
		k := lb.IP + "|" + lb.Hostname
		if !seen[k] {
			seen[k] = true
			out = append(out, lb)
		}
	}
	return out, nil
}

// StatusInput is what the status of one Ingress is computed from.
type StatusInput struct {
	// Result is the Ingress's latest translation.
	Result *IngressResult
	// Live is true when the configuration holding Result was applied to a
	// proxy that is serving.
	Live bool
	// Addresses are the --publish-address addresses.
	Addresses []networkingv1.IngressLoadBalancerIngress
	// ControllerName names us in the Accepted message.
	ControllerName string
}

// DesiredStatus returns the status signet-ingress wants on ing: the
// publish addresses, and the Accepted and Programmed conditions (other
// conditions are kept). A condition whose status is unchanged keeps its
// lastTransitionTime, so the result equals ing.Status (see StatusEqual)
// exactly when nothing needs writing.
func DesiredStatus(ing *networkingv1.Ingress, in StatusInput) networkingv1.IngressStatus {
	st := *ing.Status.DeepCopy()
	st.LoadBalancer.Ingress = slices.Clone(in.Addresses)
	if len(st.LoadBalancer.Ingress) == 0 {
		st.LoadBalancer.Ingress = nil
	}
	res := in.Result
	accepted := metav1.Condition{
		Type:               networkingv1.IngressConditionAccepted,
		ObservedGeneration: res.Generation,
	}
	if len(res.Problems) == 0 {
		accepted.Status = metav1.ConditionTrue
		accepted.Reason = ReasonAccepted
		accepted.Message = fmt.Sprintf("The Ingress is implemented by %s.", in.ControllerName)
	} else {
		accepted.Status = metav1.ConditionFalse
		accepted.Reason = mainReason(res.Problems)
		accepted.Message = problemsMessage(res.Problems)
	}
	programmed := metav1.Condition{
		Type:               networkingv1.IngressConditionProgrammed,
		ObservedGeneration: ing.Generation,
	}
	if in.Live && res.Generation == ing.Generation && res.UID == ing.UID {
		programmed.Status = metav1.ConditionTrue
		programmed.Reason = ReasonProgrammed
		programmed.Message = fmt.Sprintf("%s of generation %d %s live in the proxy.", plural(res.Routes, "route"), ing.Generation, isAre(res.Routes))
	} else {
		programmed.Status = metav1.ConditionFalse
		programmed.Reason = ReasonPending
		programmed.Message = fmt.Sprintf("Generation %d is not live in the proxy yet.", ing.Generation)
	}
	meta.SetStatusCondition(&st.Conditions, accepted)
	meta.SetStatusCondition(&st.Conditions, programmed)
	return st
}

// StatusEqual compares two statuses semantically (nil and empty lists
// are equal).
func StatusEqual(a, b networkingv1.IngressStatus) bool {
	return apiequality.Semantic.DeepEqual(a, b)
}

func mainReason(problems []Problem) string {
	best := len(reasonOrder)
	for _, p := range problems {
		if i := slices.Index(reasonOrder, p.Reason); i >= 0 && i < best {
			best = i
		}
	}
	if best == len(reasonOrder) {
		return problems[0].Reason
	}
	return reasonOrder[best]
}

// problemsMessage lists every problem, bounded to what a condition holds.
func problemsMessage(problems []Problem) string {
	var b strings.Builder
	if len(problems) > 1 {
		b.WriteString(strconv.Itoa(len(problems)) + " problems: ")
	}
	for i, p := range problems {
		item := p.Message
		if len(problems) > 1 {
			item = "(" + strconv.Itoa(i+1) + ") " + p.Reason + ": " + item
		}
		if i > 0 {
			item = "; " + item
		}
		if b.Len()+len(item) > maxMessageLength-32 {
			b.WriteString(fmt.Sprintf("; and %d more", len(problems)-i))
			break
		}
		b.WriteString(item)
	}
	return b.String()
}

func plural(n int, word string) string {
	if n == 1 {
		return "1 " + word
	}
	return strconv.Itoa(n) + " " + word + "s"
}

func isAre(n int) string {
	if n == 1 {
		return "is"
	}
	return "are"
}
