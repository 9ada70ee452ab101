// Public halves of throwaway keys for the JWT fuzz targets: an RSA-2048 key (kid "rsa1") and
// an EC P-256 key (kid "ec1"). The RS256/ES256 tokens in tests/fuzz/corpus/jwt/ were signed
// with their private halves (tests/auth/sign.py), which were not kept: the fuzzer can only
// mutate those tokens, never sign new ones.
#pragma once

namespace sluice::fuzz {

inline constexpr char kFuzzJwks[] =
    R"json({"keys": [{"kty": "RSA", "key_ops": ["verify"], "n": "zmozPiwQhncs46odVoQkzNXnnDYtUECHwqojg4A5WaxbaAi5lkgj2gQSSw57InHKaX0ciPZscuAly-MMKj0iJPFwcQvbZ1OKuKDUNN7_GCy4a4XY5b6_0Mbnwe4a3vHvpO5tQ-_vbiXk-Epx-vawzpqgNTnYeAxDSZstWbX3QOSiEsHCaADUqvwALQxjfHZEElzsdTKxQ68eLjEpRgDOBqWNSP71F3ReJLhXY7VIhPCRiXWNzdtxVH_CQazYppXiEnffEkt5V88W4eBv12GyYPxt-Av3J3igKyWKR0GWe5n1WzWRq7c2cTbQANN1j6KeC090FNLehJm3sTPslxP9QQ", "e": "AQAB", "kid": "rsa1", "use": "sig"}, {"kty": "EC", "crv": "P-256", "x": "JdAAtwC9IDPfUIjMRBzeHxnkmfJYIj5yq2OfHi5PzKY", "y": "V6wVaeevzryuut5faCnGxpOw_1-mGuncqt4dI-0hZWQ", "kid": "ec1", "use": "sig"}]})json";

inline constexpr char kFuzzEcPublicPem[] = R"pem(-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEJdAAtwC9IDPfUIjMRBzeHxnkmfJY
Ij5yq2OfHi5PzKZXrBVp56/OvK663l9oKcbGk7D/X6Ya6dyq3h0j7SFlZA==
-----END PUBLIC KEY-----
)pem";

inline constexpr char kFuzzRsaPublicPem[] = R"pem(-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAzmozPiwQhncs46odVoQk
zNXnnDYtUECHwqojg4A5WaxbaAi5lkgj2gQSSw57InHKaX0ciPZscuAly+MMKj0i
JPFwcQvbZ1OKuKDUNN7/GCy4a4XY5b6/0Mbnwe4a3vHvpO5tQ+/vbiXk+Epx+vaw
zpqgNTnYeAxDSZstWbX3QOSiEsHCaADUqvwALQxjfHZEElzsdTKxQ68eLjEpRgDO
BqWNSP71F3ReJLhXY7VIhPCRiXWNzdtxVH/CQazYppXiEnffEkt5V88W4eBv12Gy
YPxt+Av3J3igKyWKR0GWe5n1WzWRq7c2cTbQANN1j6KeC090FNLehJm3sTPslxP9
QQIDAQAB
-----END PUBLIC KEY-----
)pem";

}  // namespace sluice::fuzz
