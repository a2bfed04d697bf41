package stream

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/segmentio/kafka-go"
	"github.com/segmentio/kafka-go/sasl"
	"github.com/segmentio/kafka-go/sasl/plain"
	"github.com/segmentio/kafka-go/sasl/scram"

	"github.com/earshot-dev/earshot/internal/secret"
)

// KafkaSASL authenticates earshot's Kafka clients with kafka-go's own SASL
// mechanisms. Off when Mechanism is empty.
type KafkaSASL struct {
	Mechanism    string        `yaml:"mechanism"` // PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512
	Username     string        `yaml:"username"`
	Password     secret.String `yaml:"password"`      // or password_file, or password_env
	PasswordFile string        `yaml:"password_file"` // a file holding the password
	PasswordEnv  string        `yaml:"password_env"`  // an environment variable holding it
}

// KafkaConn is what every kafka-go client earshot makes connects with: the
// TLS configuration (nil for plaintext) and the SASL mechanism (nil for
// none). Built once, by KafkaConfig.Conn, from transport.kafka.tls and
// transport.kafka.sasl.
type KafkaConn struct {
	TLS  *tls.Config
	SASL sasl.Mechanism
}

// Conn builds the TLS configuration and SASL mechanism from the
// configuration, reading the files and the password (getenv looks up
// password_env; nil means os.Getenv). It is the one place earshot turns
// configuration into Kafka connection settings: Dialer and Transport use it.
func (c KafkaConfig) Conn(getenv func(string) string) (KafkaConn, error) {
	var errs []error
	t, err := c.TLS.Client("kafka.tls")
	errs = append(errs, err)
	m, err := c.SASL.mechanism(getenv)
	errs = append(errs, err)
	if err := errors.Join(errs...); err != nil {
		return KafkaConn{}, err
	}
	return KafkaConn{TLS: t, SASL: m}, nil
}

func (s KafkaSASL) mechanism(getenv func(string) string) (sasl.Mechanism, error) {
	if s.Mechanism == "" {
		if s.Username != "" || secret.Given(s.Password, s.PasswordFile, s.PasswordEnv) {
			return nil, errors.New("kafka.sasl: username and password need a mechanism (PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)")
		}
		return nil, nil
	}
	var errs []error
	if s.Username == "" {
		errs = append(errs, errors.New("kafka.sasl.username: required with a mechanism"))
	}
	pw, err := secret.Required("kafka.sasl.password", s.Password, s.PasswordFile, s.PasswordEnv, getenv)
	if err != nil {
		errs = append(errs, err)
	}
	var m sasl.Mechanism
	switch strings.ToUpper(s.Mechanism) {
	case "PLAIN":
		m = plain.Mechanism{Username: s.Username, Password: pw}
	case "SCRAM-SHA-256", "SCRAM-SHA-512":
		algo := scram.SHA256
		if strings.HasSuffix(s.Mechanism, "512") {
			algo = scram.SHA512
		}
		if len(errs) == 0 {
			if m, err = scram.Mechanism(algo, s.Username, pw); err != nil {
				errs = append(errs, fmt.Errorf("kafka.sasl: %w", err))
			}
		}
	default:
		errs = append(errs, fmt.Errorf("kafka.sasl.mechanism: %q, want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512", s.Mechanism))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return m, nil
}

// Dialer returns the dialer for kafka-go readers (and connections), with
// the connection's TLS and SASL.
func (c KafkaConn) Dialer() *kafka.Dialer {
	return &kafka.Dialer{Timeout: 10 * time.Second, DualStack: true, TLS: c.TLS, SASLMechanism: c.SASL}
}

// Transport returns a transport for kafka-go writers and clients, with the
// connection's TLS and SASL; otherwise as kafka-go's default transport.
func (c KafkaConn) Transport() *kafka.Transport {
	return &kafka.Transport{
		Dial: (&net.Dialer{Timeout: 3 * time.Second, DualStack: true}).DialContext,
		TLS:  c.TLS,
		SASL: c.SASL,
	}
}

// permanent reports whether err is one retrying cannot cure: the server's
// certificate is not trusted, or the credentials are refused.
func permanent(err error) bool {
	var (
		unknown  x509.UnknownAuthorityError
		host     x509.HostnameError
		invalid  x509.CertificateInvalidError
		verify   *tls.CertificateVerificationError
		alert    tls.AlertError
		recordHd tls.RecordHeaderError
	)
	return errors.As(err, &unknown) || errors.As(err, &host) || errors.As(err, &invalid) ||
		errors.As(err, &verify) || errors.As(err, &alert) || errors.As(err, &recordHd) || tlsAlert(err) ||
		errors.Is(err, kafka.SASLAuthenticationFailed) || errors.Is(err, kafka.UnsupportedSASLMechanism) ||
		errors.Is(err, kafka.IllegalSASLState)
}

// tlsAlert reports whether err is a TLS alert the server sent: it refused
// the handshake (crypto/tls reports these as a net.OpError "remote error").
func tlsAlert(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "remote error"
}

// explain adds what to do to a permanent connection error.
func explain(err error) string {
	var (
		unknown  x509.UnknownAuthorityError
		host     x509.HostnameError
		recordHd tls.RecordHeaderError
	)
	switch {
	case errors.As(err, &unknown):
		return "the brokers' certificate is not signed by a trusted CA: set transport.kafka.tls.ca_file to the CA that signed it"
	case errors.As(err, &host):
		return "the brokers' certificate does not name the host dialled: use the name it carries in transport.kafka.brokers, or set transport.kafka.tls.server_name"
	case errors.As(err, &recordHd):
		return "the brokers did not answer in TLS: is this a plaintext listener? (transport.kafka.tls.enabled)"
	case tlsAlert(err):
		return "the brokers refused the TLS handshake: a client certificate missing or not trusted (transport.kafka.tls.cert_file, key_file), or no TLS version in common"
	case errors.Is(err, kafka.SASLAuthenticationFailed):
		return "the brokers refused the SASL username or password (transport.kafka.sasl)"
	case errors.Is(err, kafka.UnsupportedSASLMechanism):
		return "the brokers do not offer this SASL mechanism on this listener (transport.kafka.sasl.mechanism)"
	}
	return "the TLS or SASL settings are refused (transport.kafka.tls, transport.kafka.sasl)"
}
