package flow

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/propusk/propusk/internal/seal"
	"github.com/propusk/propusk/store"
)

// Request is the authorization request a flow answers, read and checked
// once, at the authorization endpoint (package oauth), and kept sealed in
// the flow's row: it names the relying party and may carry a login hint
// and requested claims, which are personal data. The pages read what they
// show from Details; the provider issues its answer from Protocol without
// reading the request again.
type Request struct {
	Details Details `json:"details"`
	// Protocol is the provider's own record of the request (package
	// oauth's flowRequest), opaque here.
	Protocol json.RawMessage `json:"protocol"`
}

// requestVersion marks the sealed request's layout. A flow written by an
// older version (which kept only the raw form) reads as expired: the
// person starts again at the relying party, as after any expiry.
const requestVersion = 2

type sealedRequest struct {
	Version int `json:"v"`
	Request
}

func requestAD(flowID string) seal.AD {
	return seal.AD{Table: "flows", Column: "request", Row: flowID}
}

// sealRequest seals req for the flow with the given ID (the ID binds the
// ciphertext to its row). A local flow (no relying party) has no request
// and stores none.
func (s *Service) sealRequest(flowID string, req *Request) ([]byte, error) {
	if req == nil {
		return []byte{}, nil
	}
	if s.Ring == nil {
		return nil, errors.New("flow: no key ring to seal the request with")
	}
	b, err := json.Marshal(sealedRequest{Version: requestVersion, Request: *req})
	if err != nil {
		return nil, err
	}
	return s.Ring.Seal(b, requestAD(flowID))
}

// open reads a stored flow with its request.
func (s *Service) open(sf store.Flow) (*Flow, error) {
	f := &Flow{Flow: sf}
	if len(sf.Request) == 0 {
		return f, nil
	}
	if s.Ring == nil {
		return nil, errors.New("flow: no key ring to open the request with")
	}
	plain, err := s.Ring.Open(sf.Request, requestAD(sf.ID))
	if err != nil {
		return nil, fmt.Errorf("open flow request: %w", err)
	}
	var sr sealedRequest
	if err := json.Unmarshal(plain, &sr); err != nil {
		return nil, fmt.Errorf("read flow request: %w", err)
	}
	if sr.Version != requestVersion {
		return nil, ErrExpired
	}
	f.req = sr.Request
	return f, nil
}

// Details is what the pages show about the flow; the zero value for a
// local flow.
func (f *Flow) Details() Details { return f.req.Details }

// Protocol is the provider's record of the request (Request.Protocol).
func (f *Flow) Protocol() json.RawMessage { return f.req.Protocol }
