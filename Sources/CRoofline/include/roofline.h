void hark_roofline_dummy(void);
