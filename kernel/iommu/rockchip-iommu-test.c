// SPDX-License-Identifier: GPL-2.0-only
/*
 * KUnit tests for the Rockchip IOMMU page tables: the v1 and v2 entry
 * encodings, the ops each compatible selects, and where the directory and
 * page tables end up.
 *
 * Included from rockchip-iommu.c so that the static helpers can be called
 * directly.  The table tests use a KUnit device with the DMA mask of the
 * variant under test; they need no Rockchip hardware.  The placement checks
 * are only meaningful with memory above 4 GiB (e.g. qemu-system-aarch64
 * -M virt -m 5G) and are skipped otherwise.
 */

#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/memblock.h>
#include <linux/sizes.h>
#include <linux/string.h>

#define RK_TEST_PROT_RW		(IOMMU_READ | IOMMU_WRITE)
#define RK_TEST_NR_TABLES	64

static bool rk_test_wide_phys(void)
{
	return sizeof(phys_addr_t) >= sizeof(u64) &&
	       sizeof(dma_addr_t) >= sizeof(u64);
}

static bool rk_test_high_memory(void)
{
	return (u64)PFN_PHYS(max_pfn) > SZ_4G;
}

static bool rk_test_table_below(dma_addr_t dma, u64 mask)
{
	return (u64)dma + SPAGE_SIZE - 1 <= mask;
}

static void rk_test_free_table(struct device *dev, u32 *table, dma_addr_t dma)
{
	dma_unmap_single(dev, dma, SPAGE_SIZE, DMA_TO_DEVICE);
	iommu_free_pages(table);
}

static const struct rk_iommu_ops *rk_test_ops_for(const char *compatible)
{
	const struct of_device_id *id;

	for (id = rk_iommu_dt_ids; id->compatible[0]; id++)
		if (!strcmp(id->compatible, compatible))
			return id->data;

	return NULL;
}

static void rk_iommu_test_v1_entries(struct kunit *test)
{
	KUNIT_EXPECT_EQ(test, rk_mk_dte(0x12345000), 0x12345001);
	/* table addresses are 4 KiB aligned, low bits are not encoded */
	KUNIT_EXPECT_EQ(test, rk_mk_dte(0x12345fff), 0x12345001);
	KUNIT_EXPECT_EQ(test, (u64)rk_dte_pt_address(0x12345001), 0x12345000);

	KUNIT_EXPECT_EQ(test, rk_mk_pte(0x89abc000, 0), 0x89abc001);
	KUNIT_EXPECT_EQ(test, rk_mk_pte(0x89abc000, IOMMU_READ), 0x89abc003);
	KUNIT_EXPECT_EQ(test, rk_mk_pte(0x89abc000, IOMMU_WRITE), 0x89abc005);
	KUNIT_EXPECT_EQ(test, rk_mk_pte(0x89abc000, RK_TEST_PROT_RW), 0x89abc007);
	KUNIT_EXPECT_EQ(test, rk_mk_pte_invalid(0x89abc007), 0x89abc006);
	KUNIT_EXPECT_FALSE(test, rk_pte_is_page_valid(0x89abc006));
}

static void rk_iommu_test_v1_drops_high_bits(struct kunit *test)
{
	u64 high = 0xab12345000ULL;

	if (!rk_test_wide_phys())
		kunit_skip(test, "32-bit phys_addr_t/dma_addr_t");

	/* v1 entries carry address bits 31:12 only */
	KUNIT_EXPECT_EQ(test, rk_mk_dte((dma_addr_t)high), 0x12345001);
	KUNIT_EXPECT_EQ(test, rk_mk_pte((phys_addr_t)high, IOMMU_READ), 0x12345003);
}

static void rk_iommu_test_v2_dte(struct kunit *test)
{
	u64 pt = 0xab12345000ULL;

	if (!rk_test_wide_phys())
		kunit_skip(test, "32-bit phys_addr_t/dma_addr_t");

	/* bits 35:32 go to 11:8, bits 39:36 go to 7:4 */
	KUNIT_EXPECT_EQ(test, rk_mk_dte_v2((dma_addr_t)pt), 0x12345ba1);
	KUNIT_EXPECT_EQ(test, (u64)rk_dte_pt_address_v2(0x12345ba1), pt);
	KUNIT_EXPECT_TRUE(test, rk_dte_is_pt_valid(0x12345ba1));

	/* below 4 GiB both formats encode a table the same way */
	KUNIT_EXPECT_EQ(test, rk_mk_dte_v2(0x12345000), rk_mk_dte(0x12345000));
	KUNIT_EXPECT_EQ(test, (u64)rk_dte_pt_address_v2(0x12345001),
			(u64)rk_dte_pt_address(0x12345001));
}

static void rk_iommu_test_v2_pte(struct kunit *test)
{
	u64 page = 0xab12345000ULL;
	u32 pte;

	if (!rk_test_wide_phys())
		kunit_skip(test, "32-bit phys_addr_t/dma_addr_t");

	KUNIT_EXPECT_EQ(test, rk_mk_pte_v2((phys_addr_t)page, 0), 0x12345ba1);
	KUNIT_EXPECT_EQ(test, rk_mk_pte_v2((phys_addr_t)page, IOMMU_READ),
			0x12345ba3);
	KUNIT_EXPECT_EQ(test, rk_mk_pte_v2((phys_addr_t)page, IOMMU_WRITE),
			0x12345ba5);

	pte = rk_mk_pte_v2((phys_addr_t)page, RK_TEST_PROT_RW);
	KUNIT_EXPECT_EQ(test, pte, 0x12345ba7);
	/* bit 3 is the security bit: never set for normal mappings */
	KUNIT_EXPECT_EQ(test, pte & BIT(3), 0);
	KUNIT_EXPECT_EQ(test, (u64)rk_dte_pt_address_v2(pte), page);
	KUNIT_EXPECT_EQ(test, (u64)rk_dte_pt_address_v2(rk_mk_pte_invalid(pte)),
			page);
	KUNIT_EXPECT_FALSE(test, rk_pte_is_page_valid(rk_mk_pte_invalid(pte)));
}

static void rk_iommu_test_v2_roundtrip(struct kunit *test)
{
	unsigned int bit;
	u64 addr;

	if (!rk_test_wide_phys())
		kunit_skip(test, "32-bit phys_addr_t/dma_addr_t");

	for (bit = 12; bit < 40; bit++) {
		addr = BIT_ULL(bit) | SZ_4K;
		KUNIT_EXPECT_EQ_MSG(test,
				    (u64)rk_dte_pt_address_v2(rk_mk_pte_v2((phys_addr_t)addr,
									    RK_TEST_PROT_RW)),
				    addr, "page address bit %u", bit);
		KUNIT_EXPECT_EQ_MSG(test,
				    (u64)rk_dte_pt_address_v2(rk_mk_dte_v2((dma_addr_t)addr)),
				    addr, "table address bit %u", bit);
	}

	addr = GENMASK_ULL(39, 12);
	KUNIT_EXPECT_EQ(test, (u64)rk_dte_pt_address_v2(rk_mk_dte_v2((dma_addr_t)addr)),
			addr);
}

static void rk_iommu_test_match_data(struct kunit *test)
{
	const struct rk_iommu_ops *v1 = rk_test_ops_for("rockchip,iommu");
	const struct rk_iommu_ops *v2 = rk_test_ops_for("rockchip,rk3568-iommu");
	const struct rk_iommu_ops *npu = rk_test_ops_for("rockchip,rk3588-npu-iommu");

	KUNIT_ASSERT_NOT_NULL(test, v1);
	KUNIT_ASSERT_NOT_NULL(test, v2);
	KUNIT_ASSERT_NOT_NULL(test, npu);

	/* v1: 32-bit entries, tables below 4 GiB */
	KUNIT_EXPECT_TRUE(test, v1->mk_ptentries == rk_mk_pte);
	KUNIT_EXPECT_TRUE(test, v1->mk_dtentries == rk_mk_dte);
	KUNIT_EXPECT_EQ(test, v1->dma_bit_mask, DMA_BIT_MASK(32));
	KUNIT_EXPECT_TRUE(test, !!(v1->gfp_flags & __GFP_DMA32));

	/* v2: 40-bit entries, tables anywhere in 40 bits (unchanged) */
	KUNIT_EXPECT_TRUE(test, v2->mk_ptentries == rk_mk_pte_v2);
	KUNIT_EXPECT_TRUE(test, v2->mk_dtentries == rk_mk_dte_v2);
	KUNIT_EXPECT_TRUE(test, v2->pt_address == rk_dte_pt_address_v2);
	KUNIT_EXPECT_EQ(test, v2->dma_bit_mask, DMA_BIT_MASK(40));
	KUNIT_EXPECT_TRUE(test, !v2->gfp_flags);

	/* RK3588 NPU: 40-bit entries, tables below 4 GiB */
	KUNIT_EXPECT_TRUE(test, npu->mk_ptentries == rk_mk_pte_v2);
	KUNIT_EXPECT_TRUE(test, npu->mk_dtentries == rk_mk_dte_v2);
	KUNIT_EXPECT_TRUE(test, npu->pt_address == rk_dte_pt_address_v2);
	KUNIT_EXPECT_EQ(test, npu->dma_bit_mask, DMA_BIT_MASK(32));
	KUNIT_EXPECT_TRUE(test, !!(npu->gfp_flags & __GFP_DMA32));
	KUNIT_EXPECT_TRUE(test, npu != v2);
}

static void rk_iommu_test_npu_tables_low(struct kunit *test)
{
	const struct rk_iommu_ops *ops = &iommu_data_ops_v2_npu;
	struct device *dev = test->priv;
	dma_addr_t *dma;
	u32 **tables;
	int i, n;

	tables = kunit_kcalloc(test, RK_TEST_NR_TABLES, sizeof(*tables), GFP_KERNEL);
	dma = kunit_kcalloc(test, RK_TEST_NR_TABLES, sizeof(*dma), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, tables);
	KUNIT_ASSERT_NOT_NULL(test, dma);
	KUNIT_ASSERT_EQ(test, dma_set_mask_and_coherent(dev, ops->dma_bit_mask), 0);

	for (n = 0; n < RK_TEST_NR_TABLES; n++) {
		tables[n] = rk_iommu_alloc_table(dev, ops, GFP_KERNEL, &dma[n]);
		if (!tables[n])
			break;
	}
	KUNIT_EXPECT_EQ(test, n, RK_TEST_NR_TABLES);

	for (i = 0; i < n; i++) {
		KUNIT_EXPECT_EQ(test, (u64)dma[i], (u64)virt_to_phys(tables[i]));
		KUNIT_EXPECT_TRUE_MSG(test, rk_test_table_below(dma[i], DMA_BIT_MASK(32)),
				      "table %d at %pad", i, &dma[i]);
		KUNIT_EXPECT_NULL(test, memchr_inv(tables[i], 0, SPAGE_SIZE));
		rk_test_free_table(dev, tables[i], dma[i]);
	}
}

static void rk_iommu_test_v2_tables_anywhere(struct kunit *test)
{
	const struct rk_iommu_ops *ops = &iommu_data_ops_v2;
	struct device *dev = test->priv;
	int i, high = 0;
	dma_addr_t dma;
	u32 *table;

	if (!rk_test_high_memory())
		kunit_skip(test, "no memory above 4 GiB");
	KUNIT_ASSERT_EQ(test, dma_set_mask_and_coherent(dev, ops->dma_bit_mask), 0);

	/* the other v2 IOMMUs keep allocating tables from all memory */
	for (i = 0; i < RK_TEST_NR_TABLES; i++) {
		table = rk_iommu_alloc_table(dev, ops, GFP_KERNEL, &dma);
		KUNIT_ASSERT_NOT_NULL(test, table);
		KUNIT_EXPECT_EQ(test, (u64)dma, (u64)virt_to_phys(table));
		if (!rk_test_table_below(dma, DMA_BIT_MASK(32)))
			high++;
		rk_test_free_table(dev, table, dma);
	}
	KUNIT_EXPECT_GT(test, high, 0);
}

static void rk_iommu_test_refuses_unreachable_table(struct kunit *test)
{
	/* a 32-bit walker without GFP_DMA32: tables may land out of reach */
	static const struct rk_iommu_ops no_dma32 = {
		.pt_address = &rk_dte_pt_address_v2,
		.mk_dtentries = &rk_mk_dte_v2,
		.mk_ptentries = &rk_mk_pte_v2,
		.dma_bit_mask = DMA_BIT_MASK(32),
	};
	struct device *dev = test->priv;
	int i, refused = 0;
	dma_addr_t dma;
	u32 *table;

	if (!rk_test_high_memory())
		kunit_skip(test, "no memory above 4 GiB");
	KUNIT_ASSERT_EQ(test, dma_set_mask_and_coherent(dev, DMA_BIT_MASK(32)), 0);

	for (i = 0; i < RK_TEST_NR_TABLES; i++) {
		table = rk_iommu_alloc_table(dev, &no_dma32,
					     GFP_KERNEL | __GFP_NOWARN, &dma);
		if (!table) {
			refused++;
			continue;
		}
		/* whatever is handed out must be usable as is */
		KUNIT_EXPECT_EQ(test, (u64)dma, (u64)virt_to_phys(table));
		KUNIT_EXPECT_TRUE(test, rk_test_table_below(dma, DMA_BIT_MASK(32)));
		rk_test_free_table(dev, table, dma);
	}
	KUNIT_EXPECT_GT(test, refused, 0);
}

static void rk_iommu_test_npu_domain_map(struct kunit *test)
{
	const struct rk_iommu_ops *ops = &iommu_data_ops_v2_npu;
	struct device *dev = test->priv;
	const unsigned long iova = 0x40001000;
	struct rk_iommu_domain *rk_domain;
	u64 page = 0xab12345000ULL;	/* never accessed */
	size_t mapped = 0;
	phys_addr_t phys;
	u32 dte, *pt;
	int ret;

	if (!rk_test_wide_phys())
		kunit_skip(test, "32-bit phys_addr_t/dma_addr_t");
	KUNIT_ASSERT_EQ(test, dma_set_mask_and_coherent(dev, ops->dma_bit_mask), 0);

	rk_domain = rk_iommu_alloc_domain(dev, ops);
	KUNIT_ASSERT_NOT_NULL(test, rk_domain);
	KUNIT_EXPECT_TRUE(test, rk_test_table_below(rk_domain->dt_dma, DMA_BIT_MASK(32)));
	KUNIT_EXPECT_EQ(test, rk_domain->domain.geometry.aperture_end,
			DMA_BIT_MASK(32));

	ret = rk_iommu_map(&rk_domain->domain, iova, (phys_addr_t)page, SZ_8K, 1,
			   RK_TEST_PROT_RW, GFP_KERNEL, &mapped);
	KUNIT_EXPECT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ(test, mapped, (size_t)SZ_8K);

	dte = rk_domain->dt[rk_iova_dte_index(iova)];
	KUNIT_ASSERT_TRUE(test, rk_dte_is_pt_valid(dte));
	/* the page table is low, the page it maps is not */
	KUNIT_EXPECT_TRUE(test, rk_test_table_below(rk_dte_pt_address_v2(dte),
						    DMA_BIT_MASK(32)));
	pt = phys_to_virt(rk_dte_pt_address_v2(dte));
	KUNIT_EXPECT_EQ(test, pt[rk_iova_pte_index(iova)],
			rk_mk_pte_v2((phys_addr_t)page, RK_TEST_PROT_RW));
	KUNIT_EXPECT_EQ(test, pt[rk_iova_pte_index(iova) + 1],
			rk_mk_pte_v2((phys_addr_t)(page + SZ_4K), RK_TEST_PROT_RW));
	phys = rk_iommu_iova_to_phys(&rk_domain->domain, iova + SZ_4K + 0x10);
	KUNIT_EXPECT_EQ(test, (u64)phys, page + SZ_4K + 0x10);

	KUNIT_EXPECT_EQ(test, rk_iommu_unmap(&rk_domain->domain, iova, SZ_8K, 1, NULL),
			(size_t)SZ_8K);
	KUNIT_EXPECT_EQ(test, (u64)rk_iommu_iova_to_phys(&rk_domain->domain, iova), 0);

	rk_iommu_domain_free(&rk_domain->domain);
}

static int rk_iommu_test_init(struct kunit *test)
{
	struct device *dev;

	dev = kunit_device_register(test, "rk-iommu-test");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	dev->dma_mask = &dev->coherent_dma_mask;
	test->priv = dev;

	return 0;
}

static struct kunit_case rk_iommu_test_cases[] = {
	KUNIT_CASE(rk_iommu_test_v1_entries),
	KUNIT_CASE(rk_iommu_test_v1_drops_high_bits),
	KUNIT_CASE(rk_iommu_test_v2_dte),
	KUNIT_CASE(rk_iommu_test_v2_pte),
	KUNIT_CASE(rk_iommu_test_v2_roundtrip),
	KUNIT_CASE(rk_iommu_test_match_data),
	KUNIT_CASE(rk_iommu_test_npu_tables_low),
	KUNIT_CASE(rk_iommu_test_v2_tables_anywhere),
	KUNIT_CASE(rk_iommu_test_refuses_unreachable_table),
	KUNIT_CASE(rk_iommu_test_npu_domain_map),
	{}
};

static struct kunit_suite rk_iommu_test_suite = {
	.name = "rockchip-iommu",
	.init = rk_iommu_test_init,
	.test_cases = rk_iommu_test_cases,
};

kunit_test_suite(rk_iommu_test_suite);
