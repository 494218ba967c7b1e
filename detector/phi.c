typedef int hs_phi_stub_;
